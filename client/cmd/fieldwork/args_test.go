package main

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// commandLines is every command, with the positional arguments it takes.
var commandLines = []string{
	"login", "whoami",
	"frameworks list", "frameworks show ID",
	"inspection create", "inspection list", "inspection show", "inspection lock", "inspection unlock", "sample",
	"team add", "team remove", "user create", "token issue", "token revoke",
	"audit", "import", "judge", "submit", "case-status", "qa select", "qa list", "moderate",
	"cases", "answer", "answers", "walk", "ui", "use ID",
	"sync", "status", "refused again", "refused dismiss", "conflicts", "resolve",
	"report", "export", "evidence",
	"finding", "recommend TEXT", "written list", "written edit", "written withdraw", "written resolve", "written dismiss",
}

// Every command parses its arguments before it does anything: a stray
// argument or an unknown flag is refused with a usage error, and nothing
// is read from or written to the client's home (no store opened, no
// server dialled).
func TestEveryCommandRefusesStrayArguments(t *testing.T) {
	for _, line := range commandLines {
		for _, extra := range []struct{ arg, want string }{
			{"stray", `unexpected argument "stray"`},
			{"--no-such-flag", "flag provided but not defined: -no-such-flag"},
		} {
			t.Run(line+" "+extra.arg, func(t *testing.T) {
				home := t.TempDir()
				t.Setenv("FIELDWORK_HOME", home)
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				var stdout, stderr bytes.Buffer
				err := run(ctx, append(strings.Fields(line), extra.arg), &stdout, &stderr)
				if err == nil || !strings.Contains(err.Error(), extra.want) {
					t.Errorf("fieldwork %s %s: %v, want an error saying %s", line, extra.arg, err, extra.want)
				}
				if ents, _ := os.ReadDir(home); len(ents) > 0 {
					t.Errorf("fieldwork %s %s: touched the client's home (%s) before refusing its arguments", line, extra.arg, ents[0].Name())
				}
			})
		}
	}
}

// commandLines names every command of the dispatch table, so a new
// command is checked above too.
func TestCommandLinesCoverEveryCommand(t *testing.T) {
	listed := map[string]bool{}
	for _, line := range commandLines {
		f := strings.Fields(line)
		if grouped[f[0]] {
			f = f[:2]
		} else {
			f = f[:1]
		}
		listed[strings.Join(f, " ")] = true
	}
	for cmd := range (&app{}).commands() {
		if !listed[cmd] {
			t.Errorf("command %q is not in commandLines", cmd)
		}
	}
}

// The CLI reaches the server and the offline store only through package
// client: it imports neither a store nor the generated code.
func TestCLIImportsNeitherStoreNorGeneratedCode(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ast.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			for _, banned := range []string{"/internal/store", "/internal/localstore", "/internal/gen/"} {
				if strings.Contains(path, banned) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
