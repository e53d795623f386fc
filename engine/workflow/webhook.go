package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// MaxWebhookResponseBytes bounds how much of a webhook's answer is read and stored.
const MaxWebhookResponseBytes = 1 << 20

// errPrivateAddress marks a webhook refused because it would reach a private address.
var errPrivateAddress = errors.New("address is loopback, link-local or private")

func webhookKind(allowPrivate bool) Kind {
	client := webhookClient(allowPrivate)
	return Kind{
		Name:        "webhook",
		Category:    CategoryConnect,
		Title:       "Webhook",
		Description: "POST a JSON body to a URL. Output: the status and the JSON (or text) body. 5xx and 429 answers are retried; other 4xx fail the action.",
		Inputs: []InputSpec{
			{Name: "url", Title: "URL", Type: TypeString, Required: true, Description: "An http or https URL; private addresses are refused unless the server allows them."},
			{Name: "body", Title: "Body", Type: TypeJSON, Description: "JSON to send; refs inside are resolved."},
			{Name: "timeout", Title: "Timeout", Type: TypeDuration, Default: "30s"},
		},
		Output: &Shape{Type: "object", Fields: map[string]*Shape{
			"status": {Type: "number"},
			"body":   {Type: "any", Description: "The response parsed as JSON, or its text."},
		}},
		Validate: func(a Action) map[string]string {
			if s, ok := a.Inputs["url"].(string); ok && !strings.Contains(s, refPrefix) {
				if _, err := webhookURL(s); err != nil {
					return map[string]string{"url": err.Error()}
				}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			timeout, _, err := in.Duration("timeout")
			if err != nil {
				return nil, err
			}
			return postJSON(ctx, client, in.String("url"), in.Inputs["body"], timeout, engine.IdempotencyKey(ctx))
		},
	}
}

// webhookURL accepts absolute http and https URLs only.
func webhookURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", s)
	}
	return u, nil
}

// webhookClient returns a client whose every connection (the first and each redirect's) is
// checked after DNS resolution, at dial time, so neither a hostname that resolves to a private
// address nor a redirect to one gets through. Proxies from the environment are not used, since
// they would hide the destination.
func webhookClient(allowPrivate bool) *http.Client {
	if allowPrivate {
		return guardedClient(nil)
	}
	return guardedClient(func(ap netip.AddrPort) error {
		if !publicAddr(ap.Addr()) {
			return fmt.Errorf("webhook to %s refused: %w", ap.Addr(), errPrivateAddress)
		}
		return nil
	})
}

// guardedClient returns a client that calls check (when set) on the resolved address of every
// connection it opens.
func guardedClient(check func(netip.AddrPort) error) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if check != nil {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook to %s refused: %w", address, errPrivateAddress)
			}
			return check(ap)
		}
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %q refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

// blockedPrefixes are ranges no webhook may reach besides what netip classifies: shared
// address space (CGNAT), "this network", benchmarking, IETF protocol assignments, NAT64.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// publicAddr reports whether ip is a public unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// postJSON sends body as JSON and returns {"status", "body"}.
func postJSON(ctx context.Context, client *http.Client, rawURL string, body any, timeout time.Duration, idemKey string) (any, error) {
	u, err := webhookURL(rawURL)
	if err != nil {
		return nil, engine.NonRetriable(engine.FieldError("inputs.url", "%v", err))
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, engine.NonRetriable(fmt.Errorf("encode webhook body: %w", err))
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return nil, engine.NonRetriable(fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "inkflow-webhook/1")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return nil, engine.NonRetriable(fmt.Errorf("webhook to %s refused (the server allows private addresses only with INKFLOW_WEBHOOK_ALLOW_PRIVATE=1): %w", u.Host, errPrivateAddress))
		}
		return nil, fmt.Errorf("webhook POST %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxWebhookResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhook POST %s: read answer: %w", u.Redacted(), err)
	}
	if len(raw) > MaxWebhookResponseBytes {
		return nil, engine.NonRetriable(engine.Errorf(engine.ETooLarge, "webhook answer is over %d bytes", MaxWebhookResponseBytes))
	}
	return webhookResult(resp, raw, u)
}

func webhookResult(resp *http.Response, raw []byte, u *url.URL) (any, error) {
	var parsed any
	if err := json.Unmarshal(raw, &parsed); err != nil {
		parsed = string(raw)
	}
	out := map[string]any{"status": float64(resp.StatusCode), "body": parsed}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("webhook POST %s answered %d: %s", u.Redacted(), resp.StatusCode, clip(string(raw), 200))
		if secs, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && secs > 0 {
			return nil, engine.RetryAfter(time.Duration(secs)*time.Second, err)
		}
		return nil, err
	case resp.StatusCode >= 400:
		return nil, engine.NonRetriable(fmt.Errorf("webhook POST %s answered %d: %s", u.Redacted(), resp.StatusCode, clip(string(raw), 200)))
	}
	return out, nil
}
