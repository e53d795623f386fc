package web

import (
	"net/http"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
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

	// Operations
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.POST("/e/:key", s.intake)                 // Inngest-compatible event intake; the key is checked inside (intake.go)
	e.POST("/fn/register", s.fnRegister)        // Inngest SDKs sync here; signed mode checks the key inside (api_apps.go)
	e.GET("/v0/runs/:id/batch", s.runBatch)     // an inngest-js app fetching a large run's events (use_api)
	e.GET("/v0/runs/:id/actions", s.runActions) // ... and its steps' memo; the key is checked inside
	e.GET("/metrics", s.metrics())              // Prometheus (metrics.go)
	e.GET("/static/*", s.static)

	// Sign-in
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)
	e.GET("/setup", s.setupPage)
	e.POST("/setup", s.setup)
	e.GET("/password/forgot", s.forgotPage) // password links (pages_account.go)
	e.POST("/password/forgot", s.forgot)
	e.GET("/password/reset", s.resetPage)
	e.POST("/password/reset", s.reset)
	e.GET("/auth/google", s.googleStart)
	e.GET("/auth/google/callback", s.googleCallback)

	// Public blog
	e.GET("/", s.blogIndex)
	e.GET("/posts/:slug", s.blogPost)
	e.GET("/tags/:tag", s.blogTag)
	e.GET("/feed.xml", s.feed)
	e.GET("/sitemap.xml", s.sitemap)
	e.GET("/robots.txt", s.robots)
	e.GET("/uploads/:name", s.serveUpload)

	// Admin pages: posts
	e.GET("/admin", s.dashboard, viewer)
	e.GET("/admin/posts", s.postsPage, viewer)
	e.GET("/admin/posts/new", s.newPostPage, editor)
	e.POST("/admin/posts", s.createPostPage, editor)
	e.POST("/admin/preview", s.previewFragment, editor)
	e.GET("/admin/posts/:id/edit", s.editPostPage, viewer) // read-only below editor
	e.POST("/admin/posts/:id", s.savePostPage, editor)
	e.POST("/admin/posts/:id/autosave", s.autosave, editor)
	e.POST("/admin/posts/:id/cover", s.uploadCover, editor)
	e.POST("/admin/uploads", s.uploadImage, editor) // images inside a post's text (uploads.go)
	e.POST("/admin/posts/:id/revisions/:rev/restore", s.restorePage, editor)
	e.GET("/admin/posts/:id/revisions/:rev/diff", s.revisionDiffPage, viewer) // pages_revisions.go
	e.POST("/admin/posts/:id/delete", s.deletePostPage, editor)
	e.GET("/admin/posts/:id/runs", s.postRunsFragment, viewer)
	e.GET("/admin/posts/:id/state", s.postStateFragment, viewer)
	e.POST("/admin/posts/:id/review", s.postActionPage("review"), editor)
	e.POST("/admin/posts/:id/draft", s.postActionPage("draft"), editor)
	e.POST("/admin/posts/:id/withdraw", s.postActionPage("withdraw"), editor)
	e.GET("/admin/review", s.reviewQueuePage, approver)
	e.GET("/admin/posts/:id/review", s.reviewPage, approver)
	e.POST("/admin/posts/:id/approve", s.postActionPage("approve"), approver)
	e.POST("/admin/posts/:id/reject", s.postActionPage("reject"), approver)
	e.POST("/admin/posts/:id/publish", s.postActionPage("publish"), approver)
	e.POST("/admin/posts/:id/unpublish", s.postActionPage("unpublish"), approver)
	e.POST("/admin/posts/:id/schedule", s.schedulePage, approver)

	// Admin pages: workflows and the visual editor (pages_workflow.go)
	e.GET("/admin/workflows", s.workflowsPage, viewer)
	e.POST("/admin/workflows", s.createWorkflowPage, admin)
	e.GET("/admin/workflows/:id/edit", s.workflowEditorPage, admin)

	// Admin pages: runs dashboard (pages_runs.go, pages_events.go, pages_functions.go, sse.go)
	e.GET("/admin/runs", s.runsPage, viewer, s.needEngine)
	e.GET("/admin/runs/stream", s.runsStream, viewer, s.needEngine)
	e.GET("/admin/runs/:id", s.runPage, viewer, s.needEngine)
	e.GET("/admin/runs/:id/events", s.runEvents, viewer, s.needEngine)
	e.POST("/admin/runs/bulk", s.bulkRunsPage, admin, s.needEngine)
	e.POST("/admin/runs/:id/cancel", s.cancelRunPage, admin, s.needEngine)
	e.POST("/admin/runs/:id/rerun", s.rerunPage("rerun"), admin, s.needEngine)
	e.POST("/admin/runs/:id/retry", s.retryRunPage, admin, s.needEngine)
	e.GET("/admin/events", s.eventsPage, viewer, s.needEngine)
	e.GET("/admin/events/stream", s.eventsStream, viewer, s.needEngine)
	e.GET("/admin/events/:id", s.eventPage, viewer, s.needEngine)
	e.POST("/admin/events", s.sendEventPage, editor, s.needEngine)
	e.GET("/admin/functions", s.functionsPage, viewer, s.needEngine)
	e.GET("/admin/apps", s.appsPage, viewer, s.needApps) // Inngest SDK apps (pages_apps.go)
	e.POST("/admin/apps", s.syncAppPage, admin, s.needApps)
	e.POST("/admin/apps/remove", s.removeAppPage, admin, s.needApps)

	// Admin pages: people and tokens
	e.GET("/admin/users", s.usersPage, admin)
	e.POST("/admin/users", s.inviteUser, admin)
	e.GET("/admin/system", s.systemPage, admin)                        // workers, queue, cron (pages_system.go)
	e.POST("/admin/system/templates/:id", s.importTemplatePage, admin) // pages_system_templates.go
	e.POST("/admin/users/:id/role", s.setUserRole, admin)
	e.POST("/admin/users/:id/disable", s.setUserDisabled(true), admin)
	e.POST("/admin/users/:id/enable", s.setUserDisabled(false), admin)
	e.POST("/admin/settings/signup", s.saveSignupPolicy, admin)
	e.GET("/admin/settings", s.settingsPage, admin) // site title, description, base URL, time zone (pages_settings.go)
	e.POST("/admin/settings", s.saveSettings, admin)
	e.GET("/admin/account", s.accountPage, viewer)
	e.POST("/admin/account/password", s.changePassword, viewer)
	e.POST("/admin/users/:id/link", s.userLink, admin)
	e.GET("/admin/tokens", s.tokensPage, viewer)
	e.POST("/admin/tokens", s.createToken, viewer)
	e.POST("/admin/tokens/:id/revoke", s.revokeToken, viewer)
	e.POST("/admin/keys", s.createEventKey, admin)
	e.POST("/admin/keys/:id/revoke", s.revokeEventKey, admin)

	// JSON API
	e.POST("/api/events", s.sendEvents, s.needEngine) // editor+ or an event key: checked inside
	e.GET("/api/events", endpoint(http.StatusOK, s.listEvents), viewer, s.needEngine)
	e.GET("/api/events/:id", endpoint(http.StatusOK, s.getEvent), viewer, s.needEngine)
	e.GET("/api/runs", endpoint(http.StatusOK, s.listRuns), viewer, s.needEngine)
	e.GET("/api/runs/:id", endpoint(http.StatusOK, s.getRun), viewer, s.needEngine)
	e.POST("/api/runs/:id/cancel", endpoint(http.StatusOK, s.cancelRun), admin, s.needEngine)
	e.POST("/api/runs/:id/rerun", endpoint(http.StatusAccepted, s.rerunRun), admin, s.needEngine)
	e.POST("/api/runs/:id/retry", endpoint(http.StatusOK, s.retryRun), admin, s.needEngine)
	e.POST("/api/runs/cancel", endpoint(http.StatusOK, s.bulkRuns((*engine.Engine).BulkCancel)), admin, s.needEngine)
	e.POST("/api/runs/replay", endpoint(http.StatusOK, s.bulkRuns((*engine.Engine).BulkReplay)), admin, s.needEngine)
	e.GET("/api/me", s.apiMe, viewer)
	e.GET("/api/posts", endpoint(http.StatusOK, s.listPosts), viewer)
	e.POST("/api/posts", endpoint(http.StatusCreated, s.createPost), editor)
	e.GET("/api/posts/:id", endpoint(http.StatusOK, s.getPost), viewer)
	e.PUT("/api/posts/:id", endpoint(http.StatusOK, s.updatePost), editor)
	e.DELETE("/api/posts/:id", endpoint(http.StatusNoContent, s.deletePost), editor)
	e.POST("/api/posts/:id/review", endpoint(http.StatusOK, s.postActionAPI("review")), editor)
	e.POST("/api/posts/:id/withdraw", endpoint(http.StatusOK, s.postActionAPI("withdraw")), editor)
	e.POST("/api/posts/:id/approve", endpoint(http.StatusOK, s.postActionAPI("approve")), approver)
	e.POST("/api/posts/:id/reject", endpoint(http.StatusOK, s.postActionAPI("reject")), approver)
	e.POST("/api/posts/:id/publish", endpoint(http.StatusOK, s.postActionAPI("publish")), approver)
	e.POST("/api/posts/:id/unpublish", endpoint(http.StatusOK, s.postActionAPI("unpublish")), approver)
	e.GET("/api/apps", endpoint(http.StatusOK, s.listApps), viewer, s.needApps)
	e.POST("/api/apps", endpoint(http.StatusOK, s.syncApp), admin, s.needApps)
	e.DELETE("/api/apps", endpoint(http.StatusOK, s.removeApp), admin, s.needApps)
	e.GET("/api/templates", endpoint(http.StatusOK, s.listTemplates), admin)
	e.POST("/api/templates/:id/import", endpoint(http.StatusCreated, s.importTemplate), admin)
	s.workflowRoutes(viewer, admin) // /api/workflows..., /api/actions (api_workflows.go)
}
