package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/internal/testdb"
)

// composeCommand returns how to run Docker Compose here: the docker CLI plugin, or the
// standalone docker-compose. Both validate a file offline, without a Docker engine.
func composeCommand(t *testing.T) []string {
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err == nil && strings.Contains(string(out), "version") {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	testdb.Need(t, "neither `docker compose` nor docker-compose is installed (apt-get install docker-compose)")
	return nil
}

// docker-compose.yml is valid, and with the ai profile it adds the local model server.
func TestComposeFileIsValid(t *testing.T) {
	dc := composeCommand(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(dc[0], append(dc[1:], append([]string{"-f", "docker-compose.yml"}, args...)...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", strings.Join(dc, " "), args, err, out)
		}
		return string(out)
	}
	run("config", "-q")
	// (docker-compose 1.x lists profiled services without --profile too, so only presence is
	// checked.)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"config", "--services"}, []string{"postgres", "inkflow-1", "inkflow-2", "mailpit"}},
		{[]string{"--profile", "ai", "config", "--services"}, []string{"postgres", "inkflow-1", "inkflow-2", "mailpit", "ollama"}},
	} {
		services := strings.Fields(run(tc.args...))
		has := map[string]bool{}
		for _, s := range services {
			has[s] = true
		}
		for _, s := range tc.want {
			if !has[s] {
				t.Errorf("%v: no service %s in %v", tc.args, s, services)
			}
		}
	}
	rendered := run("config")
	for _, want := range []string{"postgres://inkflow:inkflow@postgres:5432/inkflow", "smtp://mailpit:1025", "condition: service_healthy"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("rendered compose file lacks %q", want)
		}
	}
}
