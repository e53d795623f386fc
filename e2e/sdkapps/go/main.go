// Command goapp is an inngestgo app for inkflow's real-SDK tests and benchmark: it serves its
// functions on loopback at /api/inngest and prints "listening PORT". It reads the SDK's own
// environment (INNGEST_DEV, or INNGEST_BASE_URL, INNGEST_SIGNING_KEY and INNGEST_EVENT_KEY).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/inngest/inngestgo"
	"github.com/inngest/inngestgo/step"
)

type stepsData struct {
	ID int `json:"id"`
	N  int `json:"n"`
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	opts := inngestgo.ClientOpts{AppID: "go-app", URL: &url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/api/inngest"}}
	if base := os.Getenv("INNGEST_BASE_URL"); base != "" {
		reg := base + "/fn/register"
		opts.APIBaseURL, opts.EventAPIBaseURL, opts.RegisterURL = &base, &base, &reg
	}
	client, err := inngestgo.NewClient(opts)
	if err != nil {
		fail(err)
	}
	must(inngestgo.CreateFunction(client, inngestgo.FunctionOpts{ID: "steps", Name: "Steps and a wait"},
		inngestgo.EventTrigger("go/steps", nil),
		func(ctx context.Context, in inngestgo.Input[stepsData]) (any, error) {
			doubled, err := step.Run(ctx, "double", func(ctx context.Context) (int, error) { return in.Event.Data.N * 2, nil })
			if err != nil {
				return nil, err
			}
			step.Sleep(ctx, "pause", time.Hour)
			approval, err := step.WaitForEvent[map[string]any](ctx, "approval", step.WaitForEventOpts{
				Name: "approval", Event: "go/approve", Timeout: time.Hour, If: inngestgo.StrPtr("event.data.id == async.data.id"),
			})
			if errors.Is(err, step.ErrEventNotReceived) {
				return map[string]any{"doubled": doubled, "approved": false}, nil
			}
			if err != nil {
				return nil, err
			}
			data, _ := approval["data"].(map[string]any)
			return map[string]any{"doubled": doubled, "approved": true, "by": data["by"]}, nil
		}))
	must(inngestgo.CreateFunction(client, inngestgo.FunctionOpts{ID: "strict", Name: "Strict"},
		inngestgo.EventTrigger("go/strict", nil),
		func(ctx context.Context, in inngestgo.Input[map[string]any]) (any, error) {
			_, err := step.Run(ctx, "parse", func(ctx context.Context) (any, error) {
				return nil, inngestgo.NoRetryError(errors.New("bad record"))
			})
			return nil, err
		}))
	must(inngestgo.CreateFunction(client, inngestgo.FunctionOpts{ID: "one-step", Name: "One step"},
		inngestgo.EventTrigger("go/bench.one", nil),
		func(ctx context.Context, in inngestgo.Input[map[string]any]) (any, error) {
			return step.Run(ctx, "only", func(ctx context.Context) (int, error) { return 1, nil })
		}))
	must(inngestgo.CreateFunction(client, inngestgo.FunctionOpts{ID: "ten-step", Name: "Ten steps"},
		inngestgo.EventTrigger("go/bench.ten", nil),
		func(ctx context.Context, in inngestgo.Input[map[string]any]) (any, error) {
			sum := 0
			for i := range 10 {
				v, err := step.Run(ctx, fmt.Sprintf("step-%d", i), func(ctx context.Context) (int, error) { return i, nil })
				if err != nil {
					return nil, err
				}
				sum += v
			}
			return sum, nil
		}))
	mux := http.NewServeMux()
	mux.Handle("/api/inngest", client.Serve())
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	fail(http.Serve(ln, mux))
}

func must(_ any, err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goapp:", err)
	os.Exit(1)
}
