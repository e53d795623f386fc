package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// Defaults of the live-stream limits (Config.StreamsPerUser, Streams, StreamRecheck).
const (
	// DefaultStreamsPerUser allows a few tabs with a live page each (a browser itself keeps
	// at most six HTTP/1.1 connections to one site).
	DefaultStreamsPerUser = 8
	// DefaultStreams caps the streams of one process: each holds a goroutine and polls the
	// database every tick.
	DefaultStreams = 256
	// DefaultStreamRecheck is how often a stream checks that its session or token still
	// holds, so a stream ends this long at most after logout, disable or a role change.
	DefaultStreamRecheck = 5 * time.Second
)

// streamGate counts the live streams of this process, per user and in all.
type streamGate struct {
	mu       sync.Mutex
	perUser  map[int64]int
	total    int
	maxUser  int
	maxTotal int
}

func newStreamGate(maxUser, maxTotal int) *streamGate {
	return &streamGate{perUser: map[int64]int{}, maxUser: maxUser, maxTotal: maxTotal}
}

// enter takes a place for one stream of user, or answers 429 when the user or the process
// has no place left; leave gives it back.
func (g *streamGate) enter(user int64) (leave func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.perUser[user] >= g.maxUser:
		return nil, echo.NewHTTPError(http.StatusTooManyRequests,
			fmt.Sprintf("you have %d live pages open already; close one, or reload this page later", g.maxUser))
	case g.total >= g.maxTotal:
		return nil, echo.NewHTTPError(http.StatusTooManyRequests, "the server has too many live pages open; reload later")
	}
	g.perUser[user]++
	g.total++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.total--
			if g.perUser[user]--; g.perUser[user] <= 0 {
				delete(g.perUser, user)
			}
		})
	}, nil
}

// whoIs resolves the credential the request carries, a bearer token or the session cookie,
// to its user now: nil, with EUnauthorized, when it no longer holds (revoked, signed out,
// expired, the user disabled).
func (s *Server) whoIs(ctx context.Context, r *http.Request) (*cms.User, error) {
	if tok, ok := bearerToken(r); ok {
		return s.cms.Tokens.Authenticate(ctx, tok)
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		return s.cms.Sessions.Lookup(ctx, ck.Value)
	}
	return nil, engine.Errorf(engine.EUnauthorized, "sign in first")
}

// stillAllowed reports whether the stream opened by was may go on: the same user, still
// signed in with the same credential, not disabled, with the same role (a stream renders
// what its role may see; after a change the reconnect renders the new role's view). A
// database error keeps the stream: the next check decides.
func (s *Server) stillAllowed(ctx context.Context, r *http.Request, was *cms.User) bool {
	u, err := s.whoIs(ctx, r)
	if err != nil {
		return engine.ErrorCode(err) != engine.EUnauthorized
	}
	return u.ID == was.ID && u.Role == was.Role && !u.Disabled
}
