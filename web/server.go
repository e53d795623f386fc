package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/sdk"
	"github.com/inkflow/inkflow/engine/workflow"
)

// Config is what the server needs. DB, Engine and CMS are required.
type Config struct {
	DB     *gorm.DB
	Engine *engine.Engine
	CMS    *cms.CMS
	Logger *slog.Logger
	// BaseURL is the public address, e.g. https://blog.example.com (no trailing slash); used
	// for feeds, sitemaps, OAuth callbacks and canonical links. Default http://localhost:8080.
	BaseURL string
	// SiteName is the blog's name in titles (default "inkflow").
	SiteName string
	// SecureCookies marks cookies Secure; also on when BaseURL is https.
	SecureCookies bool
	// EventKey is a fixed event key (INKFLOW_EVENT_KEY) accepted by event intake.
	EventKey string
	// SMTPURL is where account mails (password reset and invitation links) go; empty: no
	// mail, and the pages say to ask an admin for a link instead.
	SMTPURL string
	// BodyLimit caps request bodies in bytes (default 1 MiB); UploadLimit caps uploads
	// (default 8 MiB).
	BodyLimit   int64
	UploadLimit int64
	// UploadDir is where cover images are stored (default ./data/uploads).
	UploadDir string
	// Google enables "Sign in with Google" when ClientID is set.
	Google GoogleConfig
	// Workflows stores admin-built workflows; nil answers the workflow API with 503.
	Workflows *workflow.Store
	// Apps is the Inngest SDK apps registry; nil answers /fn/register and the apps routes
	// with 503. In its dev mode the intake also accepts the SDKs' NO_EVENT_KEY_SET.
	Apps *sdk.Registry
	// TrustProxy takes the client's IP from X-Forwarded-For (set it only behind a reverse
	// proxy that sets that header); otherwise the connection's address is used, so sign-in
	// rate limits cannot be dodged with a forged header.
	TrustProxy bool
	// StreamsPerUser and Streams cap the live streams (SSE) of one user and of this process
	// (defaults DefaultStreamsPerUser, DefaultStreams); past either a new stream is 429.
	// StreamRecheck is how often a stream checks its session or token again (default
	// DefaultStreamRecheck).
	StreamsPerUser int
	Streams        int
	StreamRecheck  time.Duration
}

// Server is inkflow's HTTP server.
type Server struct {
	cfg      Config
	echo     *echo.Echo
	log      *slog.Logger
	cms      *cms.CMS
	eng      *engine.Engine
	markdown *cms.Renderer
	logins   *rateLimiter
	resets   *rateLimiter
	secure   bool
	streams  *streamGate
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.CMS == nil {
		return nil, engine.Errorf(engine.EInvalid, "web: Config.DB and Config.CMS are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	if cfg.SiteName == "" {
		cfg.SiteName = "inkflow"
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.UploadLimit == 0 {
		cfg.UploadLimit = 8 << 20
	}
	if cfg.UploadDir == "" {
		cfg.UploadDir = "data/uploads"
	}
	if cfg.StreamsPerUser <= 0 {
		cfg.StreamsPerUser = DefaultStreamsPerUser
	}
	if cfg.Streams <= 0 {
		cfg.Streams = DefaultStreams
	}
	if cfg.StreamRecheck <= 0 {
		cfg.StreamRecheck = DefaultStreamRecheck
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		cms:      cfg.CMS,
		eng:      cfg.Engine,
		markdown: cms.NewRenderer(),
		logins:   newRateLimiter(cfg.DB, cfg.Logger, "login", 10, loginWindow),
		resets:   newRateLimiter(cfg.DB, cfg.Logger, "reset", 5, loginWindow),
		secure:   cfg.SecureCookies || strings.HasPrefix(cfg.BaseURL, "https://"),
		streams:  newStreamGate(cfg.StreamsPerUser, cfg.Streams),
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s.echo = e
	s.middleware()
	s.routes()
	return s, nil
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }
