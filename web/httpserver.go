package web

import (
	"net/http"
	"time"
)

// Timeouts of the HTTP server, so that slow or idle connections cannot pile up: a request
// must send its headers within ReadHeaderTimeout and its body within ReadTimeout, an answer
// must be written within WriteTimeout (live streams lift it for themselves: see stream), and
// a kept-alive connection with no request closes after IdleTimeout. Variables so tests can
// shorten them.
var (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
)

// ConfigureHTTP sets the server's timeouts on hs.
func ConfigureHTTP(hs *http.Server) {
	hs.ReadHeaderTimeout = ReadHeaderTimeout
	hs.ReadTimeout = ReadTimeout
	hs.WriteTimeout = WriteTimeout
	hs.IdleTimeout = IdleTimeout
}
