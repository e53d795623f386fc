package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
)

func TestWebhookPostsJSON(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("body %q: %v", body, err)
		}
		switch r.URL.Path {
		case "/text":
			fmt.Fprint(w, "plain words")
		default:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"ok":true,"n":2}`)
		}
	}))
	defer srv.Close()
	client := webhookClient(true)
	out, err := postJSON(context.Background(), client, srv.URL+"/hook", map[string]any{"post": 42.0}, time.Second, "run:step")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"status": 201.0, "body": map[string]any{"ok": true, "n": 2.0}}
	if dump(out) != dump(want) || got["post"] != 42.0 {
		t.Errorf("out %s, server got %v", dump(out), got)
	}
	out, err = postJSON(context.Background(), client, srv.URL+"/text", nil, time.Second, "")
	if err != nil || out.(map[string]any)["body"] != "plain words" {
		t.Errorf("text answer: %v %v", out, err)
	}
}

func TestWebhookStatusHandling(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/slow":
			time.Sleep(200 * time.Millisecond) // the answer a timeout must cut off
		case "/huge":
			w.Write([]byte(strings.Repeat("x", MaxWebhookResponseBytes+10)))
		}
	}))
	defer srv.Close()
	client := webhookClient(true)
	tests := []struct {
		path         string
		nonRetriable bool
		msg          string
	}{
		{"/busy", false, "answered 429"},
		{"/broken", false, "answered 502"},
		{"/missing", true, "answered 404"},
		{"/slow", false, "deadline exceeded"},
		{"/huge", true, "over"},
	}
	for _, tt := range tests {
		_, err := postJSON(context.Background(), client, srv.URL+tt.path, nil, 50*time.Millisecond, "")
		if err == nil || engine.IsNonRetriable(err) != tt.nonRetriable || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err = %v (non-retriable %v), want %q non-retriable=%v", tt.path, err, engine.IsNonRetriable(err), tt.msg, tt.nonRetriable)
		}
	}
}

func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	client := webhookClient(false)
	for _, u := range []string{
		srv.URL,                          // 127.0.0.1 literal
		"http://localhost" + port,        // a name that resolves to loopback
		"http://[::1]" + port,            // IPv6 loopback
		"http://169.254.169.254/latest/", // cloud metadata (link-local)
		"http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/", "http://0.0.0.0" + port,
	} {
		_, err := postJSON(context.Background(), client, u, nil, time.Second, "")
		if !errors.Is(err, errPrivateAddress) || !engine.IsNonRetriable(err) {
			t.Errorf("%s: err = %v, want refused", u, err)
		}
	}
	if hits != 0 {
		t.Errorf("a refused webhook reached the server %d times", hits)
	}
}

// A redirect is dialled through the same check, so a permitted host cannot bounce a webhook
// to a forbidden one.
func TestWebhookChecksRedirects(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect target was reached")
	}))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/secret", http.StatusTemporaryRedirect)
	}))
	defer outer.Close()
	allowed := netip.MustParseAddrPort(strings.TrimPrefix(outer.URL, "http://"))
	client := guardedClient(func(ap netip.AddrPort) error {
		if ap != allowed {
			return fmt.Errorf("refused %s: %w", ap, errPrivateAddress)
		}
		return nil
	})
	_, err := postJSON(context.Background(), client, outer.URL, nil, time.Second, "")
	if !errors.Is(err, errPrivateAddress) {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.0.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"100.64.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "224.0.0.1": false, "255.255.255.255": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}
