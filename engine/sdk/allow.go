package sdk

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// AllowList is the set of URL prefixes inkflow may call (INKFLOW_APP_URLS). inkflow calls the
// URLs it is given by whoever syncs an app, so without it /fn/register would let anyone make
// inkflow call any address. A URL is allowed when one prefix has its scheme and host (with
// port) and a path that is a prefix of the URL's at a "/" boundary. Loopback and private
// addresses are allowed only through a prefix that names them.
type AllowList []*url.URL

// ParseAllowList reads a comma-separated list of URL prefixes.
func ParseAllowList(s string) (AllowList, error) {
	var out AllowList
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("INKFLOW_APP_URLS: %q is not an http(s) URL prefix", p)
		}
		u.Path = strings.TrimRight(u.Path, "/")
		out = append(out, u)
	}
	return out, nil
}

// Check returns nil when raw may be called, else an error that says why and what to set.
func (a AllowList) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q: URLs with credentials are not allowed", raw)
	}
	for _, p := range a {
		if !strings.EqualFold(p.Scheme, u.Scheme) || !strings.EqualFold(p.Host, u.Host) {
			continue
		}
		if p.Path == "" || u.Path == p.Path || strings.HasPrefix(u.Path, p.Path+"/") {
			return nil
		}
	}
	what := "it is not in INKFLOW_APP_URLS"
	if len(a) == 0 {
		what = "INKFLOW_APP_URLS is empty"
	}
	if isLocal(u.Hostname()) {
		what += " (loopback and private addresses are called only when listed)"
	}
	return fmt.Errorf("inkflow does not call %s: %s; add its prefix to INKFLOW_APP_URLS", redact(u), what)
}

func isLocal(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

// redact is the URL without its query (a deploy id or other tokens stay out of messages).
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.User = "", nil
	return c.String()
}
