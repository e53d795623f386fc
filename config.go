package main

import (
	"flag"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is what every command may need, from the environment with flags of the same
// meaning taking precedence. Secrets come only from the environment. Values are checked in
// openApp, after flags are parsed.
type config struct {
	DatabaseURL  string
	Addr         string
	BaseURL      string
	EventKey     string
	OpenAIKey    string
	OpenAIBase   string
	OpenAIModel  string
	GoogleID     string
	GoogleSecret string
	SMTPURL      string
	LogFormat    string
	Concurrency  int
	Lease        time.Duration
	AllowPrivate bool
	// AppURLs are the URL prefixes of the Inngest SDK apps inkflow may call (INKFLOW_APP_URLS);
	// InngestDev is dev mode for those apps (INKFLOW_INNGEST_DEV=1): nothing signed.
	AppURLs    string
	InngestDev bool
	// bad lists environment values that did not parse; openApp refuses to start with them.
	bad []string
}

// baseURL is the public URL: --base-url when given, else one derived from the listen address,
// so that moving the server to another port moves its links too.
func (c *config) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return baseURLFromAddr(c.Addr)
}

// baseURLFromAddr is http://HOST:PORT for a listen address; an empty or wildcard host
// (":8080", "0.0.0.0:8080", "[::]:8080") becomes localhost.
func baseURLFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8080"
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	if port == "80" {
		u.Host = strings.TrimSuffix(u.Host, ":80")
	}
	return u.String()
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// loadConfig reads the environment and registers the shared flags on fs.
func loadConfig(fs *flag.FlagSet) *config {
	c := &config{
		OpenAIKey:    os.Getenv("OPENAI_API_KEY"),
		GoogleSecret: os.Getenv("GOOGLE_CLIENT_SECRET"),
		EventKey:     os.Getenv("INKFLOW_EVENT_KEY"),
		SMTPURL:      os.Getenv("SMTP_URL"),
		AllowPrivate: os.Getenv("INKFLOW_WEBHOOK_ALLOW_PRIVATE") == "1",
	}
	dev := env("INKFLOW_INNGEST_DEV", "0")
	if dev != "0" && dev != "1" {
		c.bad = append(c.bad, "INKFLOW_INNGEST_DEV must be 0 or 1")
	}
	conc, err := strconv.Atoi(env("INKFLOW_CONCURRENCY", "256"))
	if err != nil || conc < 1 {
		c.bad = append(c.bad, "INKFLOW_CONCURRENCY must be a whole number above 0")
		conc = 256
	}
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", "sqlite://data/inkflow.db"), "database: postgres://... or sqlite://PATH (env DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", env("INKFLOW_ADDR", ":8080"), "HTTP listen address (env INKFLOW_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", env("INKFLOW_BASE_URL", ""), "public URL, e.g. https://blog.example.com (env INKFLOW_BASE_URL; default: http://localhost and the port of --addr; /admin/settings overrides it)")
	fs.StringVar(&c.OpenAIBase, "openai-base-url", env("OPENAI_BASE_URL", ""), "OpenAI-compatible API base URL (env OPENAI_BASE_URL)")
	fs.StringVar(&c.OpenAIModel, "openai-model", env("OPENAI_MODEL", "gpt-4o-mini"), "model name (env OPENAI_MODEL)")
	fs.StringVar(&c.GoogleID, "google-client-id", env("GOOGLE_CLIENT_ID", ""), "Google OAuth client id (env GOOGLE_CLIENT_ID)")
	fs.StringVar(&c.LogFormat, "log-format", env("INKFLOW_LOG_FORMAT", "text"), "log format: text or json (env INKFLOW_LOG_FORMAT)")
	lease, err := time.ParseDuration(env("INKFLOW_LEASE", "30s"))
	if err != nil || lease < time.Second {
		c.bad = append(c.bad, "INKFLOW_LEASE must be a duration of at least 1s, such as 30s or 2m")
		lease = 30 * time.Second
	}
	fs.DurationVar(&c.Lease, "lease", lease, "how long a worker keeps a run without heartbeat before others take it over (env INKFLOW_LEASE)")
	fs.IntVar(&c.Concurrency, "concurrency", conc, "runs executed at once by this process (env INKFLOW_CONCURRENCY)")
	fs.StringVar(&c.AppURLs, "app-urls", env("INKFLOW_APP_URLS", ""), "comma-separated URL prefixes of the Inngest SDK apps inkflow may call; loopback only when listed (env INKFLOW_APP_URLS)")
	fs.BoolVar(&c.InngestDev, "inngest-dev", dev == "1", "serve Inngest SDK apps in dev mode: nothing signed, no key needed (env INKFLOW_INNGEST_DEV=1)")
	return c
}
