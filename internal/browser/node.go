package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/repo"
	"github.com/inkflow/inkflow/internal/testdb"
)

// InstallTimeout bounds one `npm ci`.
const InstallTimeout = 10 * time.Minute

// NeedNode returns the repository root once node and every package that package.json lists
// are installed under its node_modules. Missing packages are installed with `npm ci`, once:
// the installer holds an exclusive lock on package-lock.json, so that the test binaries `go
// test -p 2 ./...` runs side by side never install over each other; the others wait for the
// lock, then find the packages there. It skips the test (fails it under INKFLOW_REQUIRE_ALL=1)
// when node or npm is missing, and fails it when the install fails.
func NeedNode(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		testdb.Need(t, "node is not installed (browser, editor and SDK tests)")
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	missing, err := missingPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) == 0 {
		return root
	}
	if err := install(root); err != nil {
		t.Fatalf("install node packages (%v missing): %v", missing, err)
	}
	return root
}

// install runs `npm ci` in root under the lock, unless another test binary installed the
// packages while this one waited for it.
func install(root string) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("npm is not installed (apt-get install npm): %w", err)
	}
	lock, err := os.Open(filepath.Join(root, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("open the lock file: %w", err)
	}
	defer lock.Close()
	// flock is released when the file is closed, also when the process dies mid-install.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock package-lock.json: %w", err)
	}
	missing, err := missingPackages(root)
	if err != nil || len(missing) == 0 {
		return err
	}
	// A symlinked node_modules belongs to another checkout: npm ci would empty it.
	if fi, err := os.Lstat(filepath.Join(root, "node_modules")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("node_modules is a symlink to another checkout's packages, which lack %v: run npm ci there", missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), InstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if missing, err := missingPackages(root); err != nil || len(missing) > 0 {
		return fmt.Errorf("npm ci left %v missing (%v)", missing, err)
	}
	return nil
}

// missingPackages lists the packages package.json names that have no package.json of their
// own under node_modules.
func missingPackages(root string) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("read package.json: %w", err)
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return nil, fmt.Errorf("parse package.json: %w", err)
	}
	var missing []string
	for _, deps := range []map[string]string{pkg.Dependencies, pkg.DevDependencies} {
		for name := range deps {
			if _, err := os.Stat(filepath.Join(root, "node_modules", name, "package.json")); err != nil {
				missing = append(missing, name)
			}
		}
	}
	sort.Strings(missing)
	return missing, nil
}
