package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Both binaries name their build: program, module version, VCS revision.
// The test binaries (built with the environment's flags, which may turn VCS
// stamping off) print the line's shape; a build from a clean clone of this
// commit prints its revision, and "+dirty" once a file is changed.
func TestVersion(t *testing.T) {
	// The second line is the protocol (docs/releases.md); the server's
	// also names the oldest client it serves.
	shape := regexp.MustCompile(`^(fieldwork|fieldworkd) (v\S+ \(rev ([0-9a-f]{7}(\+dirty)?|unknown)\)|\(devel\) rev ([0-9a-f]{7}(\+dirty)?|unknown))\n` +
		`protocol \d+ \(as in fieldwork v\d+\.\d+\.\d+\)(; serves fieldwork clients of protocol \d+ \(v\d+\.\d+\.\d+\) or later)?\n$`)
	for _, prog := range []string{"fieldwork", "fieldworkd"} {
		for _, arg := range []string{"--version", "version"} {
			out, err := exec.Command(filepath.Join(binDir, prog), arg).Output()
			if err != nil || !shape.MatchString(string(out)) || !strings.HasPrefix(string(out), prog+" ") || strings.Contains(string(out), "serves") != (prog == "fieldworkd") {
				t.Errorf("%s %s = %q, %v", prog, arg, out, err)
			}
		}
		if out, err := exec.Command(filepath.Join(binDir, prog), "--version", "x").CombinedOutput(); err == nil {
			t.Errorf("%s --version x: accepted a stray argument: %q", prog, out)
		}
	}

	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git checkout to build from: %v", err)
	}
	rev := strings.TrimSpace(string(head))[:7]
	top, _ := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	clone := filepath.Join(t.TempDir(), "src")
	if out, err := exec.Command("git", "clone", "--quiet", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Skipf("git clone: %v %s", err, out)
	}
	build := func(want string) {
		t.Helper()
		bin := t.TempDir()
		cmd := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./server/cmd/fieldworkd", "./client/cmd/fieldwork")
		cmd.Dir = clone
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build from a clone: %v\n%s", err, out)
		}
		for _, prog := range []string{"fieldwork", "fieldworkd"} {
			out, err := exec.Command(filepath.Join(bin, prog), "--version").Output()
			got, _, _ := strings.Cut(string(out), "\n")
			if err != nil || got != prog+" (devel) rev "+want {
				t.Errorf("%s --version built from a clone = %q, %v; want %q", prog, got, err, prog+" (devel) rev "+want)
			}
		}
	}
	build(rev)
	if err := os.WriteFile(filepath.Join(clone, "docs", "ARCHITECTURE.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build(rev + "+dirty")
}
