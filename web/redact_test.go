package web

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestRedactText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"dial tcp 10.0.0.5:443: connect: connection refused", "dial [address hidden]: connect: connection refused"},
		{"dial tcp [fd00::5]:443: i/o timeout", "dial [address hidden]: i/o timeout"},
		{"lookup api.internal on 127.0.0.53:53: no such host", "lookup [address hidden] on [address hidden]: no such host"},
		{`Post "https://llm.internal:4000/v1/chat?key=sk-abcdef123": EOF`, `Post "[address hidden]": EOF`},
		{"the model answered 401 for key=abc123 (Bearer sk-zzzzzzzz)", "the model answered 401 for key=[hidden] (Bearer [hidden])"},
		{"read tcp 10.1.2.3:5555->10.9.9.9:5432: reset", "read [address hidden]: reset"},
		{"connect to db:5432 failed; fe80::1%eth0 unreachable", "connect to [address hidden] failed; [address hidden]%eth0 unreachable"},
		{`step "s" failed after 4 attempt(s): boom at 12:30:45`, `step "s" failed after 4 attempt(s): boom at 12:30:45`},
		{"webhook answered 500", "webhook answered 500"},
	} {
		if got := redactText(c.in); got != c.want {
			t.Errorf("redactText(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// Run errors reach viewers, editors and approvers without the internal addresses, URLs and
// keys they carry (the run page, its live stream, the API, the failure event); admins see
// them whole. Before, every viewer read "dial tcp 10.0.0.5:443" and the provider's URL.
func TestRunErrorsHideInternalsFromNonAdmins(t *testing.T) {
	secrets := []string{"10.0.0.5", "llm.internal", "sk-abcdef123"}
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		fn := &engine.Function{ID: "leaky", Flow: engine.Flow{Retries: new(int)}, Triggers: []engine.Trigger{{Event: "leak/start"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				_, err := in.Step.Run(ctx, "call", func(ctx context.Context) (any, error) {
					return nil, errors.New(`Post "https://llm.internal:4000/v1/chat?key=sk-abcdef123": dial tcp 10.0.0.5:443: connect: connection refused`)
				})
				return nil, err
			}}
		eng := enginetest.New(t, db, engine.Options{}, fn)
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		res, err := eng.Send(context.Background(), engine.Event{Name: "leak/start"})
		if err != nil {
			t.Fatal(err)
		}
		run := enginetest.Await(t, eng, res.Runs[0], engine.StatusFailed)
		if !strings.Contains(run.Error, "10.0.0.5") {
			t.Fatalf("the stored error lost its detail: %q", run.Error)
		}
		enginetest.Eventually(t, "the failure event", func() bool {
			evs, _, _ := eng.ListEvents(context.Background(), engine.EventFilter{Name: engine.EventRunFailed})
			return len(evs) == 1
		})
		for _, role := range []cms.Role{cms.RoleViewer, cms.RoleEditor, cms.RoleApprover, cms.RoleAdmin} {
			u := ts.mustUser(t, string(role)+"@example.com", role)
			tok := ts.token(t, u)
			b := ts.client(t)
			b.login(u.Email)
			pages := map[string]string{
				"GET /api/runs/{id}":           ts.rawAPI(t, tok, "GET", "/api/runs/"+run.ID, "").Body,
				"GET /api/runs":                ts.rawAPI(t, tok, "GET", "/api/runs?function=leaky", "").Body,
				"GET /api/events (run.failed)": ts.rawAPI(t, tok, "GET", "/api/events?name="+engine.EventRunFailed, "").Body,
				"/admin/runs/{id}":             b.get("/admin/runs/" + run.ID).Body,
				"/admin/events":                b.get("/admin/events").Body,
			}
			s := openStream(t, b, "/admin/runs/"+run.ID+"/events")
			ev, _ := s.next(t)
			pages["/admin/runs/{id}/events"] = ev.data
			s.close()
			for where, body := range pages {
				for _, secret := range secrets {
					if leaked := strings.Contains(body, secret); leaked != (role == cms.RoleAdmin) {
						t.Errorf("%s reading %s: holds %q = %v", role, where, secret, leaked)
					}
				}
			}
		}
	})
}

// unreachableModel fails every call the way the OpenAI client does when the provider's
// address does not answer: NonRetriable, carrying the URL and the address.
type unreachableModel struct{}

func (unreachableModel) Name() string  { return ai.ProviderOpenAI }
func (unreachableModel) Model() string { return "gpt" }
func (unreachableModel) fail() error {
	return engine.NonRetriable(errors.New(`Post "https://llm.internal:4000/v1/chat/completions?key=sk-abcdef123": dial tcp 10.0.0.5:4000: connect: connection refused`))
}
func (m unreachableModel) TOC(context.Context, ai.TOCRequest) (*ai.TOCAnswer, error) {
	return nil, m.fail()
}
func (m unreachableModel) Grammar(context.Context, ai.GrammarRequest) (*ai.GrammarAnswer, error) {
	return nil, m.fail()
}
func (m unreachableModel) Social(context.Context, ai.SocialRequest) (*ai.SocialAnswer, error) {
	return nil, m.fail()
}

// A post whose review run failed says why on its page and in the API: with the run's error
// hidden as on the run page for everyone below admin (it carried the provider's URL and key).
func TestReviewReasonHidesInternalsFromNonAdmins(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, unreachableModel{})
		ctx := context.Background()
		title, md := "Unreachable", reviewDraft
		p, err := rs.CMS.Posts.Create(ctx, rs.editor, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.CMS.Posts.SendToReview(ctx, rs.editor, p.ID); err != nil {
			t.Fatal(err)
		}
		rs.awaitPost(t, p.ID, "back to draft with the run's failure", func(p *cms.Post) bool { return p.Status == cms.StatusDraft })
		rev, err := rs.CMS.Posts.LatestReview(ctx, p.ID)
		if err != nil || rev == nil || !strings.Contains(rev.Reason, "10.0.0.5") {
			t.Fatalf("stored reason %+v, %v: want the whole error", rev, err)
		}
		for _, u := range []*cms.User{rs.viewer, rs.editor, rs.approver, rs.admin} {
			b := rs.client(t)
			b.login(u.Email)
			for where, body := range map[string]string{
				"GET /api/posts/{id}": rs.rawAPI(t, rs.token(t, u), "GET", pathf("/api/posts/%d", p.ID), "").Body,
				"post page":           b.get(pathf("/admin/posts/%d/edit", p.ID)).Body,
			} {
				for _, secret := range []string{"10.0.0.5", "llm.internal", "sk-abcdef123"} {
					if leaked := strings.Contains(body, secret); leaked != (u.Role == cms.RoleAdmin) {
						t.Errorf("%s reading %s: holds %q = %v", u.Role, where, secret, leaked)
					}
				}
			}
		}
	})
}
