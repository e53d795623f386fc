package web

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inkflow/inkflow/engine"
)

// metrics returns the GET /metrics handler: Prometheus text over a registry of its own (not
// the global one), holding the engine's database-wide figures (engine.Metrics) and this
// process's Go runtime and process figures.
//
// /metrics is public like /healthz; it shows function names and counts, nothing from events.
// Behind a reverse proxy, expose it only to the monitoring network if that matters.
func (s *Server) metrics() echo.HandlerFunc {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.eng != nil {
		reg.MustRegister(engine.NewMetrics(s.eng))
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}, Registry: reg})
	return echo.WrapHandler(h)
}

// slogPrinter lets promhttp report encoding errors through the server's logger.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Warn("metrics", "err", v) }
