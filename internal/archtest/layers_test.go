// Package archtest holds the layering rules of docs/ARCHITECTURE.md as
// tests over the module's real import graph (go list), so that a change
// that crosses a layer fails here rather than in review.
package archtest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/fieldworkhq/fieldwork/"

type pkg struct {
	ImportPath                string
	Dir                       string
	Imports                   []string // non-test imports
	GoFiles                   []string
	TestGoFiles, XTestGoFiles []string
}

func packages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	all := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		all[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	if len(all) < 10 {
		t.Fatalf("go list found %d packages; the test reads nothing", len(all))
	}
	return all
}

func imports(p pkg, prefix string) bool {
	for _, imp := range p.Imports {
		if imp == prefix || strings.HasPrefix(imp, prefix+"/") {
			return true
		}
	}
	return false
}

const (
	driver = "github.com/mattn/go-sqlite3"
	grpc   = "google.golang.org/grpc"
	gen    = module + "internal/gen"
)

func TestLayers(t *testing.T) {
	all := packages(t)
	if !imports(all["internal/sqlite"], driver) {
		t.Fatalf("internal/sqlite does not import %s: the driver rule below would check nothing", driver)
	}
	// Direct imports: server and client use a store and gRPC by design,
	// each through a package of its own.
	for name, p := range all {
		sqlite := imports(p, driver) || imports(p, module+"internal/sqlite")
		if imports(p, driver) && name != "internal/sqlite" {
			t.Errorf("%s imports the SQLite driver; only internal/sqlite may", name)
		}
		if sqlite && imports(p, grpc) {
			t.Errorf("%s imports both gRPC and SQLite", name)
		}
	}
	rules := []struct {
		pkg    string
		forbid []string
		why    string
	}{
		{"internal/framework", []string{module, grpc, driver}, "the domain imports nothing of ours but itself"},
		{"internal/syncer", []string{module + "internal/store", module + "internal/localstore", module + "internal/sqlite", gen, grpc}, "the sync rules are pure"},
		{"internal/sampling", []string{module + "internal/store", module + "internal/localstore", module + "internal/sqlite", module + "internal/interchange", module + "internal/report", gen, grpc}, "the sampling rules are pure: rows in, a sample out"},
		{"internal/agreement", []string{module + "internal/store", module + "internal/localstore", module + "internal/sqlite", module + "internal/aggregate", module + "internal/report", gen, grpc}, "the agreement statistics are pure: marking pairs in, figures out"},
		{"internal/aggregate", []string{module + "internal/store", module + "internal/sqlite", gen, grpc}, "aggregation computes from the domain only"},
		{"internal/store", []string{module + "internal/aggregate", module + "internal/interchange", module + "internal/report", module + "server", module + "client", module + "internal/localstore", gen, grpc}, "the server's store holds data, not reports, CSV or transport"},
		{"internal/localstore", []string{module + "internal/store", module + "internal/aggregate", module + "internal/report", module + "server", module + "client", gen, grpc}, "the offline store holds data only"},
		{"internal/wire", []string{module + "internal/store", module + "internal/localstore", module + "internal/sqlite"}, "wire maps messages; it knows no storage"},
		{"client/cmd/fieldwork", []string{module + "internal/store", module + "internal/localstore", module + "internal/sqlite", gen}, "the CLI talks to the client library only"},
		{"server/cmd/fieldworkd", []string{module + "internal/localstore", gen}, "the server's main starts the server"},
	}
	for _, r := range rules {
		p, ok := all[r.pkg]
		if !ok {
			t.Errorf("no package %s: update this test with the layout", r.pkg)
			continue
		}
		for _, f := range r.forbid {
			for _, imp := range p.Imports {
				if f == module && strings.HasPrefix(imp, module) && imp != module+r.pkg {
					t.Errorf("%s imports %s (%s)", r.pkg, imp, r.why)
				} else if f != module && (imp == f || strings.HasPrefix(imp, f+"/")) {
					t.Errorf("%s imports %s (%s)", r.pkg, imp, r.why)
				}
			}
		}
	}
}

// No hand-written Go file grows much past 600 lines: a file that long holds
// more than one idea (generated code is exempt).
func TestFileLengths(t *testing.T) {
	const limit = 620
	for name, p := range packages(t) {
		if strings.HasPrefix(name, "internal/gen") {
			continue
		}
		for _, files := range [][]string{p.GoFiles, p.TestGoFiles, p.XTestGoFiles} {
			for _, f := range files {
				path := filepath.Join(p.Dir, f)
				file, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for s := bufio.NewScanner(file); s.Scan(); {
					n++
				}
				file.Close()
				if n > limit {
					t.Errorf("%s/%s has %d lines, over %d: split it where its ideas part", name, f, n, limit)
				}
			}
		}
	}
}
