package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/static"
)

var staticFiles = http.StripPrefix("/static/", http.FileServer(http.FS(static.FS)))

// static serves the embedded files under /static/, without directory listings and without
// the Go source that sits next to them.
func (s *Server) static(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
	if name == "" || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".go") {
		return echo.ErrNotFound
	}
	if st, err := fs.Stat(static.FS, name); err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	staticFiles.ServeHTTP(c.Response(), c.Request())
	return nil
}
