package sdkapps

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

var (
	goAppOnce sync.Once
	goAppBin  string
	goAppErr  error
	// binDir outlives every test (TestMain removes it): the app is built once for all.
	binDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "inkflow-sdkapps-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildGoApp builds go/ (its own module, inngestgo v0.16.0 from the Go module proxy) once.
func buildGoApp(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		testdb.Need(t, "the go tool is not installed (real inngestgo SDK tests)")
	}
	goAppOnce.Do(func() {
		dir, _ := filepath.Abs("go")
		goAppBin = filepath.Join(binDir, "goapp")
		out, err := exec.Command(goBin, "-C", dir, "build", "-o", goAppBin, ".").CombinedOutput()
		if err != nil {
			goAppErr = err
			goAppBin = string(out)
		}
	})
	if goAppErr != nil {
		t.Fatalf("build the inngestgo app: %v\n%s", goAppErr, goAppBin)
	}
	return goAppBin
}

func TestInngestGo(t *testing.T) {
	t.Parallel()
	bin := buildGoApp(t)
	for _, mode := range []string{"dev", "signed"} {
		t.Run(mode, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *testdb.DB) { runGoApp(t, db, bin, mode == "dev") })
		})
	}
}

func runGoApp(t *testing.T, db *testdb.DB, bin string, dev bool) {
	clk := &clock{}
	f := startInkflow(t, db, clk)
	env := []string{"INNGEST_DEV=" + f.url}
	if !dev {
		key, evKey := signedSetup(t, db, f)
		env = []string{"INNGEST_BASE_URL=" + f.url, "INNGEST_SIGNING_KEY=" + key, "INNGEST_EVENT_KEY=" + evKey}
	}
	origin := startApp(t, exec.Command(bin), env...)
	f.serve(db, origin, dev)
	app, err := f.reg.Sync(f.ctx, origin+"/api/inngest")
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !strings.HasPrefix(app.SDK, "go:") || len(app.Functions) != 4 {
		t.Fatalf("synced app = %+v", app)
	}

	id := f.send("go/steps", map[string]any{"id": 1, "n": 21})
	f.await(id, engine.StatusSleeping)
	clk.Add(2 * time.Hour)
	f.await(id, engine.StatusWaiting)
	for _, by := range []string{"mallory", "ana"} {
		data := map[string]any{"id": 2, "by": by}
		if by == "ana" {
			data["id"] = 1
		}
		if _, err := f.eng.Send(f.ctx, engine.Event{Name: "go/approve", Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	run := f.await(id, engine.StatusCompleted)
	if string(run.Output) != `{"approved":true,"by":"ana","doubled":42}` {
		t.Errorf("output = %s", run.Output)
	}

	run = f.await(f.send("go/strict", nil), engine.StatusFailed)
	if run.Attempt != 0 || !strings.Contains(run.Error, "bad record") {
		t.Errorf("strict: attempt %d, error %q", run.Attempt, run.Error)
	}
	if run := f.await(f.send("go/bench.ten", nil), engine.StatusCompleted); string(run.Output) != "45" || len(run.Steps) != 10 {
		t.Errorf("ten steps: %s, %d steps", run.Output, len(run.Steps))
	}
}
