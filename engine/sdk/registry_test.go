package sdk

import (
	"fmt"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestAllowList(t *testing.T) {
	t.Parallel()
	al, err := ParseAllowList(" http://127.0.0.1:3000/api , https://apps.example.com ")
	if err != nil {
		t.Fatal(err)
	}
	for u, ok := range map[string]bool{
		"http://127.0.0.1:3000/api":                true,
		"http://127.0.0.1:3000/api/inngest?fnId=x": true,
		"https://apps.example.com/anything":        true,
		"http://127.0.0.1:3000/apix":               false, // a prefix ends at a path boundary
		"http://127.0.0.1:30001/api":               false,
		"http://127.0.0.1:3000.evil.com/api":       false,
		"http://apps.example.com/x":                false, // scheme differs
		"http://169.254.169.254/latest":            false,
		"http://localhost:3000/api":                false, // loopback only when listed as such
		"https://user:pw@apps.example.com/x":       false,
		"file:///etc/passwd":                       false,
	} {
		if err := al.Check(u); (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want allowed %v", u, err, ok)
		}
	}
	if err := AllowList(nil).Check("http://127.0.0.1/"); err == nil || !strings.Contains(err.Error(), "INKFLOW_APP_URLS") {
		t.Errorf("empty list: %v", err)
	}
	if _, err := ParseAllowList("ftp://x"); err == nil {
		t.Error("an ftp prefix was accepted")
	}
}

func TestRegistrySignedModeAndReplacement(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		app.add("fake-one", func(s *fakeStep) (any, error) { return "one", nil })
		e := newEnv(t, db, nil, app.srv.URL, false)
		key, err := e.reg.SigningKey(e.ctx)
		if err != nil || !strings.HasPrefix(key, "signkey-prod-") {
			t.Fatalf("signing key %q, %v", key, err)
		}
		if again, _ := e.reg.SigningKey(e.ctx); again != key {
			t.Fatal("a second SigningKey made a new key")
		}
		app.setKey(key)
		e.start()

		// Register in signed mode: only with the hashed key as bearer.
		req := app.register(fn("fake-one", "fake/fake-one"))
		if _, err := e.reg.Register(e.ctx, req, RegisterAuth{Authorization: "Bearer undefined"}); engine.ErrorCode(err) != engine.EUnauthorized {
			t.Fatalf("register with a wrong bearer: %v", err)
		}
		if _, err := e.reg.Register(e.ctx, req, RegisterAuth{Authorization: "Bearer " + HashedKey(key), ExpectedServerKind: KindDev}); engine.ErrorCode(err) != engine.EInvalid {
			t.Fatalf("register expecting a dev server: %v", err)
		}
		if mod, err := e.reg.Register(e.ctx, req, RegisterAuth{Authorization: "Bearer " + HashedKey(key), ExpectedServerKind: KindCloud}); err != nil || !mod {
			t.Fatalf("register = %v, %v", mod, err)
		}
		if mod, _ := e.reg.Register(e.ctx, req, RegisterAuth{Authorization: "Bearer " + HashedKey(key)}); mod {
			t.Error("the same functions again reported modified")
		}
		run := e.await(e.send("fake/fake-one", nil), engine.StatusCompleted)
		if string(run.Output) != `"one"` {
			t.Errorf("signed call output = %s", run.Output)
		}

		// Sync in-band while the engine runs: fake-two arrives, fake-one stays.
		app.add("fake-two", func(s *fakeStep) (any, error) { return "two", nil })
		a, err := e.reg.Sync(e.ctx, app.url())
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "fake" || len(a.Functions) != 2 || a.SyncedAt == nil || a.Error != "" {
			t.Fatalf("synced app = %+v", a)
		}
		if run := e.await(e.send("fake/fake-two", nil), engine.StatusCompleted); string(run.Output) != `"two"` {
			t.Errorf("new function output = %s", run.Output)
		}

		// A sync that fails is recorded on the app; a URL that is not allowed is refused.
		app.setKey("signkey-prod-00")
		if _, err := e.reg.Sync(e.ctx, app.url()); engine.ErrorCode(err) != engine.EUnavailable {
			t.Fatalf("sync with a mismatched key: %v", err)
		}
		if a, _ := e.reg.App(e.ctx, app.url()); !strings.Contains(a.Error, "401") || a.ErrorAt == nil || len(a.Functions) != 2 {
			t.Errorf("after a failed sync the app = %+v", a)
		}
		if _, err := e.reg.Sync(e.ctx, "http://127.0.0.2:1/"); engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("sync of a URL not allowed: %v", err)
		}
		bad := app.register(fn("fake-evil", "x"))
		bad.Functions[0].Steps["step"] = StepConfig{ID: "step"}
		if _, err := e.reg.Register(e.ctx, bad, RegisterAuth{Authorization: "Bearer " + HashedKey(key)}); engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("register without a call URL: %v", err)
		}
	})
}

func TestRegistryReplacesAndSharesFunctionsAcrossProcesses(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		app.add("fake-a", func(s *fakeStep) (any, error) { return "a", nil })
		app.add("fake-b", func(s *fakeStep) (any, error) { return "b", nil })
		one := newEnv(t, db, nil, app.srv.URL, true)
		two := newEnv(t, db, nil, app.srv.URL, true)
		one.start()
		two.start()
		one.register(app.register(fn("fake-a", "shared/a")))
		// The second process sees the function the first one synced, and runs it.
		awaitFunction(t, two.eng, "fake-a", true)
		res, err := two.eng.Send(two.ctx, engine.Event{Name: "shared/a"})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("send through the second process: %v %v", res, err)
		}
		two.await(res.Runs[0], engine.StatusCompleted)

		// Replaced: fake-a is dropped (archived: no new runs), fake-b arrives.
		one.register(app.register(fn("fake-b", "shared/b")))
		awaitFunction(t, two.eng, "fake-b", true)
		if res, _ := two.eng.Send(two.ctx, engine.Event{Name: "shared/a"}); len(res.Runs) != 0 {
			t.Errorf("an archived function started runs %v", res.Runs)
		}
		a, err := one.reg.App(one.ctx, app.url())
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Functions) != 2 || a.Functions[0].ID != "fake-b" || !a.Functions[1].Archived {
			t.Errorf("functions after replacement = %+v", a.Functions)
		}
		// A function id taken by another app is refused.
		other := newFakeApp(t)
		req := other.register(fn("fake-b", "x"))
		allowBoth, _ := ParseAllowList(app.srv.URL + "," + other.srv.URL)
		one.reg.cfg.Allow = allowBoth
		if _, err := one.reg.Register(one.ctx, req, RegisterAuth{}); engine.ErrorCode(err) != engine.EInvalid || !strings.Contains(err.Error(), "already registered") {
			t.Errorf("a clashing function id: %v", err)
		}
	})
}

func awaitFunction(t *testing.T, e *engine.Engine, id string, present bool) {
	t.Helper()
	enginetest.Eventually(t, fmt.Sprintf("function %s to be present=%v", id, present), func() bool {
		found := false
		for _, f := range e.Functions() {
			if f.ID == id && len(f.Triggers) > 0 {
				found = true
			}
		}
		return found == present
	})
}
