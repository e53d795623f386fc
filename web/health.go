package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
)

// healthz answers 200 while the process serves requests (liveness).
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database is reachable and fully migrated, 503 otherwise.
func (s *Server) readyz(c echo.Context) error {
	ctx := c.Request().Context()
	sqlDB, err := s.cfg.DB.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return engine.Errorf(engine.EUnavailable, "database unreachable")
	}
	n, err := database.Pending(ctx, s.cfg.DB)
	if err != nil {
		return engine.Errorf(engine.EUnavailable, "cannot read migration status")
	}
	if n > 0 {
		return engine.Errorf(engine.EUnavailable, "%d database migrations pending", n)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
