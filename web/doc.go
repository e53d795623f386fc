// Package web is inkflow's HTTP adapter: one echo server with the public blog, the admin
// pages (templ + htmx), the JSON API under /api and the health endpoints.
//
// # How the parts fit
//
// routes.go is the one route table; every route names the role it needs there. Middleware
// (middleware.go) runs in this order: recover, request log, body limit, security headers,
// authentication (session cookie, or Authorization: Bearer on /api), CSRF (every unsafe
// request with a cookie session must carry the token; bearer calls are exempt). Handlers
// return errors; errors.go turns them into one status per engine.Error code, JSON for /api
// and a friendly page otherwise. endpoint.go wraps typed JSON endpoints so that decoding,
// validation and error mapping live in one place.
//
// Other parts of inkflow add their handlers as files of this package (api_workflows.go,
// api_runs.go, pages_runs.go ...) and register them in routes.go.
package web
