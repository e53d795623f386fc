package cms_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

// fixture is the CMS over a real database and a real engine, with a clock the test moves.
type fixture struct {
	*cms.CMS
	DB  *testdb.DB
	Eng *engine.Engine
	now time.Time
}

func newFixture(t *testing.T, db *testdb.DB) *fixture {
	t.Helper()
	f := &fixture{DB: db, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	eng := enginetest.New(t, db, engine.Options{})
	f.Eng = eng
	f.CMS = cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) tick(d time.Duration) { f.now = f.now.Add(d) }

func (f *fixture) user(t *testing.T, email string, role cms.Role) *cms.User {
	t.Helper()
	u, err := f.Users.Create(context.Background(), cms.NewUser{Email: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) post(t *testing.T, author *cms.User, title, markdown string) *cms.Post {
	t.Helper()
	p, err := f.Posts.Create(context.Background(), author, cms.PostInput{Title: &title, Markdown: &markdown})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// events returns the stored events named name, newest first.
func (f *fixture) events(t *testing.T, name string) []engine.StoredEvent {
	t.Helper()
	evs, _, err := f.Eng.ListEvents(context.Background(), engine.EventFilter{Name: name, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func ptr[T any](v T) *T { return &v }

func code(err error) domain.Code {
	if err == nil {
		return ""
	}
	return domain.CodeOf(err)
}
