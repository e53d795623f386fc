package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	compose "github.com/compose-spec/compose-go/v2/cli"
)

// loadCompose loads docker-compose.yml with the Compose specification's own Go loader (the one
// Docker Compose uses): it checks the file against the schema, interpolates variables with
// their defaults and resolves the YAML anchors, offline and without a Docker binary. The
// environment is empty so the result does not depend on the machine.
func loadCompose(t *testing.T, profiles ...string) ([]string, string) {
	t.Helper()
	opts, err := compose.NewProjectOptions([]string{filepath.Join("..", "docker-compose.yml")},
		compose.WithName("inkflow"), compose.WithEnv(nil), compose.WithProfiles(profiles))
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml (profiles %v) is not valid: %v", profiles, err)
	}
	rendered, err := project.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	return project.ServiceNames(), string(rendered)
}

// docker-compose.yml is valid, and with the ai profile it adds the local model server.
func TestComposeFileIsValid(t *testing.T) {
	for _, tc := range []struct {
		profiles []string
		want     []string
	}{
		{nil, []string{"inkflow-1", "inkflow-2", "mailpit", "postgres"}},
		{[]string{"ai"}, []string{"inkflow-1", "inkflow-2", "mailpit", "ollama", "ollama-pull", "postgres"}},
	} {
		services, rendered := loadCompose(t, tc.profiles...)
		slices.Sort(services)
		if !slices.Equal(services, tc.want) {
			t.Errorf("profiles %v: services %v, want %v", tc.profiles, services, tc.want)
		}
		for _, want := range []string{"postgres://inkflow:inkflow@postgres:5432/inkflow", "smtp://mailpit:1025", "condition: service_healthy", "INKFLOW_BASE_URL: http://localhost:8080"} {
			if !strings.Contains(rendered, want) {
				t.Errorf("profiles %v: rendered compose file lacks %q", tc.profiles, want)
			}
		}
	}
}
