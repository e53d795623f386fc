package web

import (
	"github.com/inkflow/inkflow/cms"
)

// routes is the one route table. Each line names the role it needs: none (public), viewer,
// editor, approver or admin. Parts of inkflow that live in other files of this package
// (workflows, actions, runs, events) register their routes here too.
func (s *Server) routes() {
	e := s.echo
	viewer := s.requireRole(cms.RoleViewer)
	editor := s.requireRole(cms.RoleEditor)
	approver := s.requireRole(cms.RoleApprover)
	admin := s.requireRole(cms.RoleAdmin)
	_, _, _ = editor, approver, admin

	// Operations
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/*", s.static)

	// Sign-in
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)
	e.GET("/setup", s.setupPage)
	e.POST("/setup", s.setup)

	// Admin pages
	e.GET("/admin", s.dashboard, viewer)

	// JSON API
	e.GET("/api/me", s.apiMe, viewer)
}
