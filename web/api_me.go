package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
)

type meRequest struct{}

// apiMe returns the caller: a cheap way for API clients to check their token.
var apiMeEndpoint = endpoint(http.StatusOK, func(c echo.Context, _ *meRequest) (*cms.User, error) {
	return userOf(c), nil
})

func (s *Server) apiMe(c echo.Context) error { return apiMeEndpoint(c) }
