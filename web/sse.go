package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
)

// Live pages (the runs list and a run) are kept current with Server-Sent Events: the server
// polls what the page shows, re-renders the live fragment with the same templ component the
// page used, and sends it only when the bytes changed. static/js/runs.js swaps each update
// into the element whose data-live names the stream. Polling the database keeps this correct
// with any number of server and worker processes (a worker in another process has no way to
// tell this one that a step finished); the components render nothing clock-dependent, so an
// unchanged run costs one query per tick and no bytes on the wire.

// keepAlive is how often an idle stream sends a comment, so proxies do not close it.
const keepAlive = 15 * time.Second

// liveFrame renders the fragment of the moment; final reports that nothing will change any
// more (a finished run), so the stream can end after sending it.
type liveFrame func(ctx context.Context) (comp templ.Component, final bool, err error)

// stream answers with a text/event-stream: an "update" event (data: the fragment's HTML)
// whenever the fragment changes, checked every interval, then a "done" event when the frame
// is final. It returns when the client goes away (the request's context ends). Errors before
// the first byte are returned as usual; later ones end the stream and the browser reconnects.
//
// Streams are capped per user and per process (429 past either, see streamGate), and every
// Config.StreamRecheck the stream checks its session or token again: it ends once the user
// signed out, was disabled or changed role (the browser's reconnect then meets sign-in).
func (s *Server) stream(c echo.Context, every time.Duration, frame liveFrame) error {
	ctx := c.Request().Context()
	who := userOf(c)
	if who == nil {
		return engine.Errorf(engine.EUnauthorized, "sign in first")
	}
	leave, err := s.streams.enter(who.ID)
	if err != nil {
		return err
	}
	defer leave()
	comp, final, err := frame(ctx)
	if err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	w.WriteHeader(http.StatusOK)
	// A server-wide write timeout would cut a long stream; this one lives as long as the client.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Time{})
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	var last []byte
	tick := time.NewTicker(every)
	defer tick.Stop()
	idle, checked := time.Now(), time.Now()
	for {
		var buf bytes.Buffer
		if err := comp.Render(ctx, &buf); err != nil {
			return s.endStream(ctx, err)
		}
		if !bytes.Equal(buf.Bytes(), last) {
			if err := writeEvent(w, "update", buf.String()); err != nil {
				return nil
			}
			last, idle = buf.Bytes(), time.Now()
		}
		if final {
			_ = writeEvent(w, "done", "")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if time.Since(checked) >= s.cfg.StreamRecheck {
			if !s.stillAllowed(ctx, c.Request(), who) {
				return nil
			}
			checked = time.Now()
		}
		if time.Since(idle) > keepAlive {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			w.Flush()
			idle = time.Now()
		}
		if comp, final, err = frame(ctx); err != nil {
			return s.endStream(ctx, err)
		}
	}
}

// endStream logs why a stream stopped early, unless the client left.
func (s *Server) endStream(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		s.log.WarnContext(ctx, "live stream stopped", slog.Any("err", err))
	}
	return nil
}

// writeEvent sends one event; each line of data goes on its own "data:" line, as the
// EventSource format requires. CR LF, and a bare CR (which EventSource also takes as the end
// of a line: a webhook's answer or a workflow name may hold one), become line breaks too.
func writeEvent(w *echo.Response, name, data string) error {
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	if _, err := w.Write([]byte(b.String())); err != nil {
		return err
	}
	w.Flush()
	return nil
}
