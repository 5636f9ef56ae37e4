package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// fieldworkd runs the command as main does, with its output captured. The
// tests run it in a fresh working folder (t.Chdir) so that a command that
// reads the default ./fieldwork.db cannot touch the tree.
func fieldworkd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, &out)
	return out.String(), err
}

// TestRecount_FixIsAFlag runs recount on a database whose kept counts have
// drifted: --fix is a flag like any other (any spelling, after --db too),
// not "the second word".
func TestRecount_FixIsAFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	db := filepath.Join(t.TempDir(), "fieldwork.db")
	if out, err := fieldworkd(t, "--db", db, "admin-token"); err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("admin-token: %q, %v", out, err)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES ('I-1', '2.1.1', 'yes', 3)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if out, err := fieldworkd(t, "--db", db, "recount"); err == nil || !strings.Contains(out, "question 2.1.1 value yes: kept 3, counted 0") {
		t.Fatalf("recount after drift: %v\n%s", err, out)
	}
	if out, err := fieldworkd(t, "recount", "--db", db, "-fix"); err != nil || !strings.Contains(out, "1 count(s) differed and were rewritten") {
		t.Fatalf("recount --db DB -fix: %v\n%s", err, out)
	}
	if out, err := fieldworkd(t, "--db", db, "recount", "--fix"); err != nil || !strings.Contains(out, "kept counts equal a full recount") {
		t.Fatalf("recount --fix after the fix: %v\n%s", err, out)
	}
	if _, err := os.Stat("fieldwork.db"); !os.IsNotExist(err) {
		t.Errorf("a command ignored --db and opened ./fieldwork.db (stat: %v)", err)
	}
}

// TestRecount_UnreadableRowReportedAndFixed: a kept row by attribute that
// cannot be read is one line of the report (its value quoted: it is case
// data, and here a terminal escape), not a failure, and --fix rewrites it.
func TestRecount_UnreadableRowReportedAndFixed(t *testing.T) {
	t.Chdir(t.TempDir())
	db := filepath.Join(t.TempDir(), "fieldwork.db")
	if out, err := fieldworkd(t, "--db", db, "admin-token"); err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("admin-token: %q, %v", out, err)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO breakdown_counts (inspection_id, attribute, attr_value, counts) VALUES ('I-1', 'sex', ?, x'01ff')`, "\x1b[31m"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	want := `inspection I-1 counts by sex "\x1b[31m": unreadable`
	if out, err := fieldworkd(t, "--db", db, "recount"); err == nil || !strings.Contains(out, want) || strings.Contains(out, "\x1b") {
		t.Fatalf("recount of an unreadable row: %v\n%q", err, out)
	}
	if out, err := fieldworkd(t, "--db", db, "recount", "--fix"); err != nil || !strings.Contains(out, "1 count(s) differed and were rewritten") {
		t.Fatalf("recount --fix: %v\n%s", err, out)
	}
	if out, err := fieldworkd(t, "--db", db, "recount"); err != nil || !strings.Contains(out, "kept counts equal a full recount") {
		t.Fatalf("recount after the fix: %v\n%s", err, out)
	}
}

// TestStrayArgumentsRefused: every command refuses arguments and flags it
// does not take, before it opens anything.
func TestStrayArgumentsRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"recount", "junk"}, `recount takes no arguments, got "junk"`},
		{[]string{"recount", "--fix", "now"}, `recount takes no arguments, got "now"`},
		{[]string{"recount", "--listen", "127.0.0.1:0"}, "flag provided but not defined: -listen"},
		{[]string{"--listen", "127.0.0.1:0", "recount"}, "recount does not take --listen"},
		{[]string{"admin-token", "please"}, `admin-token takes no arguments, got "please"`},
		{[]string{"--http", "127.0.0.1:0", "--framework", "f.json", "admin-token"}, "admin-token does not take --framework, --http"},
		{[]string{"--db", "x.db", "dev-cert", "tls"}, "dev-cert does not take --db"},
		{[]string{"serve", "now"}, `serve takes no arguments, got "now"`},
		{[]string{"backup"}, "backup: --to FILE is required"},
		{[]string{"--log-format", "xml"}, `--log-format "xml": want text or json`},
		{[]string{"--metrics-addr", "127.0.0.1:0", "recount"}, "recount does not take --metrics-addr"},
		{[]string{"backup", "--to", "copy.db", "now"}, `backup takes no arguments, got "now"`},
		{[]string{"--listen", "127.0.0.1:0", "backup", "--to", "copy.db"}, "backup does not take --listen"},
		{[]string{"--db", "x.db", "bogus"}, `unknown command "bogus"`},
	} {
		out, err := fieldworkd(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fieldworkd %s: err = %v (out %q); want %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("refused commands left %d file(s) behind, e.g. %s", len(entries), entries[0].Name())
	}
}

// TestParse_DocumentedForms keeps every form the README, docs, scripts
// and e2e tests use valid, with the meaning they rely on.
func TestParse_DocumentedForms(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		cmd, db, listen  string
		http             string
		frameworks, rest []string
		fix              bool
		cert             string
	}{
		{args: nil, cmd: "serve", db: "fieldwork.db", listen: "127.0.0.1:7070"},
		{args: []string{"--framework", "a.json", "--framework", "b.json"}, cmd: "serve", db: "fieldwork.db", listen: "127.0.0.1:7070",
			frameworks: []string{"a.json", "b.json"}},
		{args: []string{"--http", "127.0.0.1:7080"}, cmd: "serve", db: "fieldwork.db", listen: "127.0.0.1:7070", http: "127.0.0.1:7080"},
		// scripts/run.sh, with its "$@" (extra flags) appended
		{args: []string{"--db", "f.db", "--listen", "127.0.0.1:7071", "--http", "127.0.0.1:7081", "--framework", "a.json"}, cmd: "serve",
			db: "f.db", listen: "127.0.0.1:7071", http: "127.0.0.1:7081", frameworks: []string{"a.json"}},
		{args: []string{"--tls-cert", "tls/cert.pem", "--tls-key", "tls/key.pem", "--listen", "0.0.0.0:7443"}, cmd: "serve",
			db: "fieldwork.db", listen: "0.0.0.0:7443", cert: "tls/cert.pem"},
		{args: []string{"--db", "f.db", "serve", "--listen", "127.0.0.1:7071"}, cmd: "serve", db: "f.db", listen: "127.0.0.1:7071"},
		{args: []string{"--db", "f.db", "admin-token"}, cmd: "admin-token", db: "f.db", listen: "127.0.0.1:7070"},
		{args: []string{"admin-token", "--db", "f.db"}, cmd: "admin-token", db: "f.db", listen: "127.0.0.1:7070"},
		{args: []string{"--db", "f.db", "recount"}, cmd: "recount", db: "f.db", listen: "127.0.0.1:7070"},
		{args: []string{"--db", "f.db", "recount", "--fix"}, cmd: "recount", db: "f.db", listen: "127.0.0.1:7070", fix: true},
		{args: []string{"recount", "--fix", "--db", "f.db"}, cmd: "recount", db: "f.db", listen: "127.0.0.1:7070", fix: true},
		{args: []string{"dev-cert"}, cmd: "dev-cert", db: "fieldwork.db", listen: "127.0.0.1:7070"},
		{args: []string{"dev-cert", "tls"}, cmd: "dev-cert", db: "fieldwork.db", listen: "127.0.0.1:7070", rest: []string{"tls"}},
		{args: []string{"dev-cert", "out", "example.org", "10.0.0.5"}, cmd: "dev-cert", db: "fieldwork.db", listen: "127.0.0.1:7070",
			rest: []string{"out", "example.org", "10.0.0.5"}},
	} {
		name, o, rest, err := parse(tc.args)
		if err != nil {
			t.Errorf("fieldworkd %s: %v", strings.Join(tc.args, " "), err)
			continue
		}
		norm := func(l []string) []string { // nil and empty lists alike
			if len(l) == 0 {
				return nil
			}
			return l
		}
		got := []any{name, o.cfg.DBPath, o.cfg.ListenAddr, o.httpAddr, norm(o.frameworks), norm(rest), o.fix, o.cfg.TLSCertFile}
		want := []any{tc.cmd, tc.db, tc.listen, tc.http, norm(tc.frameworks), norm(tc.rest), tc.fix, tc.cert}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fieldworkd %s parsed as %v; want %v", strings.Join(tc.args, " "), got, want)
		}
	}
}
