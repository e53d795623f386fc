package ai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/inkflow/inkflow/engine"
)

// maxRetryAfter caps a server's Retry-After so that a bogus header cannot park a run for days.
const maxRetryAfter = time.Hour

// CallError is a failed call to the model's server, as classify sees it. It unwraps to an
// *engine.Error whose message is fit for the run's dashboard.
type CallError struct {
	// Status is the HTTP status; 0 for a timeout or a network error.
	Status int
	// RetryAfter is the delay the server asked for (Retry-After); 0 when it did not say.
	RetryAfter time.Duration
	// Retriable tells whether another attempt may succeed.
	Retriable bool
	err       *engine.Error
}

func (e *CallError) Error() string { return e.err.Message }
func (e *CallError) Unwrap() error { return e.err }

// classify turns a failed call into an error the durable step understands:
//   - the caller's context ended: returned as is (the worker is stopping);
//   - timeouts, network errors, 408, 409, 429 and 5xx: retriable, with engine.RetryAfter when
//     the server said when to come back;
//   - any other 4xx: engine.NonRetriable, with a message that says what to fix.
func classify(ctx context.Context, err error, h http.Header, p *openAIProvider) error {
	if ctx.Err() != nil {
		return fmt.Errorf("ask AI model: %w", ctx.Err())
	}
	status, detail := statusOf(err)
	ce := &CallError{Status: status, Retriable: retriable(status)}
	switch {
	case status == 0 && errors.Is(err, context.DeadlineExceeded):
		ce.err = engine.Errorf(engine.EUnavailable, "AI model %s did not answer within %s", p.model, p.timeout)
	case status == 0:
		ce.err = engine.Errorf(engine.EUnavailable, "AI provider unreachable: %v", err)
	case ce.Retriable:
		ce.err = engine.Errorf(engine.EUnavailable, "AI provider answered %d (will retry): %s", status, detail)
	case status == http.StatusUnauthorized:
		ce.err = engine.Errorf(engine.EUnavailable, "AI provider refused the API key (401): %s; check OPENAI_API_KEY", detail)
	case status == http.StatusForbidden:
		ce.err = engine.Errorf(engine.EUnavailable, "AI provider denied access (403): %s; check the key's permissions for model %s", detail, p.model)
	case status == http.StatusNotFound:
		ce.err = engine.Errorf(engine.EUnavailable, "AI model %s not found (404): %s; check OPENAI_MODEL and OPENAI_BASE_URL", p.model, detail)
	default:
		ce.err = engine.Errorf(engine.EUnavailable, "AI provider rejected the request (%d): %s", status, detail)
	}
	if !ce.Retriable {
		return engine.NonRetriable(ce)
	}
	if d, ok := retryAfter(h, time.Now()); ok && status != 0 {
		ce.RetryAfter = d
		return engine.RetryAfter(d, ce)
	}
	return ce
}

// retriable reports statuses another attempt may fix: none (timeout, network), 408, 409,
// 429 and 5xx.
func retriable(status int) bool {
	return status == 0 || status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// statusOf extracts the HTTP status and the server's message from a go-openai error.
func statusOf(err error) (int, string) {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode, apiErr.Message
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		body := strings.TrimSpace(string(reqErr.Body))
		if len(body) > 300 {
			body = body[:300] + "..."
		}
		if body == "" {
			body = reqErr.HTTPStatus
		}
		return reqErr.HTTPStatusCode, body
	}
	return 0, err.Error()
}

// schemaRefused reports a 400 that blames the response format: the server does not support
// JSON-schema structured outputs.
func schemaRefused(err error) bool {
	status, detail := statusOf(err)
	d := strings.ToLower(detail)
	return status == http.StatusBadRequest && (strings.Contains(d, "response_format") || strings.Contains(d, "json_schema"))
}

// retryAfter reads OpenAI's retry-after-ms or the standard Retry-After (seconds or an HTTP
// date), capped at maxRetryAfter.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	var d time.Duration
	if v := h.Get("Retry-After-Ms"); v != "" {
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil || ms < 0 {
			return 0, false
		}
		d = time.Duration(ms * float64(time.Millisecond))
	} else if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
			d = time.Duration(secs * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			d = max(t.Sub(now), 0)
		} else {
			return 0, false
		}
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}
