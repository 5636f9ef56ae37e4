// The fieldwork command is the inspector's and lead's client: it records
// answers offline in a local store, syncs them with a fieldworkd server and
// prints reports. Run "fieldwork help" for the commands.
//
// main.go holds the dispatch and the helpers every command shares; each
// command group has its own file (setup.go, frameworks.go, inspections.go,
// admin.go, importing.go, record.go, syncing.go, reports.go, ui.go,
// written.go, sample.go). The
// commands reach the server and the offline store only through package
// client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

const usage = `usage: fieldwork COMMAND [flags]
       fieldwork version | --version   the program, module version and VCS revision of this build, and its protocol

Set-up:
  login --server ADDR --token TOKEN|- [--ca FILE] [--tls]   (--token -: read from stdin; or set FIELDWORK_TOKEN)
  whoami
Frameworks:
  frameworks list
  frameworks show ID [--version N]
Inspections (lead / admin, online):
  inspection create --name NAME --framework ID [--version N] [--unit UNIT]   prints the new id (latest version unless --version)
  inspection list
  inspection show --inspection ID           the inspection, and how its samples were drawn (lead, QA, analyst)
  team add --inspection ID --user NAME --role lead|inspector|qa|analyst
  team remove --inspection ID --user NAME   (their devices drop the inspection)
  user create --name NAME [--admin]
  token issue --user NAME [--ttl 2160h]
  token revoke --user NAME [--token-id ID]        every token of the user unless --token-id
  inspection lock|unlock --inspection ID [--reason TEXT]
  audit --inspection ID [--case REF] [--format table|json]
  import --inspection ID [--cases F [--sample-info F]] [--answers F] [--judgements F] [--findings F]
                                    --cases keeps F.sample.json (or --sample-info) with the inspection
Sampling (offline; docs/sampling.md):
  sample --caseload FILE (--size N | --confidence 80 --margin 10) [--strata ATTR]… [--seed S]
         [--inspectors a,b,c] [--from DATE --to DATE] [--framework ID] [--warn-margin 5] --out cases.csv
  judge --inspection ID --standard ID --rating RATING --rationale TEXT
Written judgements (lead, works offline; sent on sync):
  judge --inspection ID --summary TEXT      the summary (unrated: the Chief Inspector's judgement)
  finding --inspection ID --standard ID --strength TEXT | --improvement TEXT
  recommend --inspection ID TEXT
  written list --inspection ID [--format table|json]   numbered, with conflicts and refused edits
  written edit --inspection ID --item summary|N|ID --text TEXT
  written withdraw --inspection ID --item summary|N|ID   (kept in the history and audit trail)
  written resolve --conflict ID --mine | --theirs
  written dismiss --inspection ID --op ID
Recording (works offline; --inspection may be left out when the laptop holds one, or after fieldwork use ID):
  use [ID | --clear]                             the inspection commands use when none is named
  cases [--inspection ID]
  answer [--inspection ID] --case REF --question QID --value yes|no|na|N [--note TEXT]
  answer [--inspection ID] --case REF --question KEY|STANDARD --value na --with-prompts [--note TEXT]
                                                 na for a key question and its prompts (or a standard), one answer each
  answers [--inspection ID] --case REF [--text | --missing]   --text: question text, unanswered marked; --missing: what is left
  walk [--inspection ID] --case REF              guided, question by question; resumes where you stopped (docs/walk.md)
  ui [--listen 127.0.0.1:0] [--no-browser]       the offline web form on this laptop (loopback only)
  submit [--inspection ID] --case REF            checked here (every unanswered question listed), queued, sent now or on the next sync
  case-status [--inspection ID] --case REF --status in_progress|submitted|qa_checked|locked [--reason TEXT]
Second marking (docs/qa.md):
  qa select --inspection ID (--share PERCENT [--seed S] | --case REF…) --qa USER   (lead; at least one per inspector)
  qa list --inspection ID                         selections and each second marking's state (lead, QA)
  answer --second …, answers --second …, walk --second …, submit --second …   the QA marker's second marking (offline)
  moderate --inspection ID --case REF             the disagreements once both markings are submitted (lead, QA)
  moderate --inspection ID --case REF --question Q (--take first|second | --value V) [--note N]   the agreed answer
Sync and reports:
  sync [--batch N]
  status [--format table|json]          unsynced answers, conflicts, and every refused edit
  refused again (--case REF --question Q [--inspection ID] | --op ID)   record a refused edit again
  refused dismiss (--case REF --question Q [--inspection ID] | --op ID) dismiss it (audited at the next sync)
  conflicts [--inspection ID] [--format table|json] [--all]
  resolve --conflict REF --mine | --theirs | --value V [--note TEXT]   (works offline; sent on sync)
                                    REF: the short reference conflicts shows (or the whole id)
  report [--inspection ID] | --inspections ID,ID… [--by ATTR]… [--questions key|all] [--format table|json] [--local]
  export --inspection ID | --inspections ID,ID… [--by ATTR]… --format csv|xlsx|html --out PATH [--local]
                                    --local (and when the server cannot be reached): computed on this laptop from
                                    its store, as of the last sync with the unsynced edits (one inspection)
  export --inspection ID | --inspections ID,ID… --format dataset [--notes] [--long] --out DIR
  evidence [--inspection ID] --question QID [--value yes|no|na|N] [--by ATTR=VALUE]… [--grep TEXT] [--format table|json]
                                    the cases behind a figure, with inspector and evidence note

The client keeps its store and credentials in $FIELDWORK_HOME (default: the
user's config directory/fieldwork).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		// Errors quote user data (case refs, values, rows of a refused
		// file): shown escaped, keeping the lines of multi-line errors.
		ew := termsafe.NewWriter(os.Stderr)
		fmt.Fprintln(ew, "fieldwork:", err)
		ew.Flush()
		os.Exit(1)
	}
}

type app struct {
	ctx    context.Context
	stdin  io.Reader
	home   string
	stdout io.Writer
	stderr io.Writer
	local  *client.Offline
	creds  client.Credentials
	// dialled: the command reached for the server (explain may reword
	// its failure).
	dialled bool
}

// commands maps each command (with its verb, for the grouped ones) to its
// handler, which gets the arguments after it.
func (a *app) commands() map[string]func([]string) error {
	return map[string]func([]string) error{
		"login": a.login, "whoami": a.whoami,
		"frameworks list": a.frameworksList, "frameworks show": a.frameworksShow,
		"inspection create": a.inspectionCreate, "inspection list": a.inspectionList, "inspection show": a.inspectionShow, "sample": a.sample,
		"team add": a.teamAdd, "team remove": a.teamRemove, "user create": a.userCreate, "token issue": a.tokenIssue, "token revoke": a.tokenRevoke,
		"inspection lock": a.inspectionLock, "inspection unlock": a.inspectionUnlock, "audit": a.audit,
		"submit": a.submit, "case-status": a.caseStatus,
		"import": a.importFiles, "judge": a.judge,
		"finding": a.finding, "recommend": a.recommend, "written list": a.writtenList, "written edit": a.writtenEdit,
		"written withdraw": a.writtenWithdraw, "written resolve": a.writtenResolve, "written dismiss": a.writtenDismiss,
		"qa select": a.qaSelect, "qa list": a.qaList, "moderate": a.moderate,
		"cases": a.cases, "answer": a.answer, "answers": a.answers, "walk": a.walk, "ui": a.ui, "use": a.use,
		"sync": a.sync, "status": a.status, "refused": a.refused, "conflicts": a.conflicts, "resolve": a.resolve, "report": a.report, "export": a.export, "evidence": a.evidence,
	}
}

// grouped are the commands that take a verb (frameworks list, team add …).
var grouped = map[string]bool{"frameworks": true, "inspection": true, "team": true, "user": true, "token": true, "written": true, "qa": true}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Whatever a command prints, no control sequence from user data reaches
	// the terminal; table cells and messages also escape their own newlines
	// and tabs (termsafe.Fprintf).
	safe := termsafe.NewWriter(stdout)
	defer safe.Flush()
	stdout = safe
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "version" || args[0] == "--version" {
		if len(args) > 1 {
			return fmt.Errorf("%s: unexpected argument %q", args[0], args[1])
		}
		fmt.Fprintln(stdout, buildinfo.Line("fieldwork"))
		fmt.Fprintln(stdout, buildinfo.ProtocolLine())
		return nil
	}
	home, err := client.Home()
	if err != nil {
		return err
	}
	a := &app{ctx: ctx, home: home, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	defer func() {
		if a.local != nil {
			a.local.Close()
		}
	}()
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && grouped[cmd] {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	h, ok := a.commands()[cmd]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
	}
	return a.explain(cmd, h(rest))
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("fieldwork "+name, flag.ContinueOnError)
	fs.SetOutput(termsafe.NewWriter(os.Stderr)) // flag errors quote the bad argument
	return fs
}

// parse is every command's parsing: its flags, no positional argument
// (a stray word is refused, not ignored), and the flags it needs. It runs
// before the command opens the store or dials the server.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range required {
		if !set[n] {
			return fmt.Errorf("%s: --%s is required", fs.Name(), n)
		}
	}
	return nil
}

// openLocal opens the offline store, creating the home directory (0700).
func (a *app) openLocal() (*client.Offline, error) {
	if a.local != nil {
		return a.local, nil
	}
	if err := os.MkdirAll(a.home, 0o700); err != nil {
		return nil, err
	}
	l, err := client.OpenOffline(a.ctx, filepath.Join(a.home, "client.db"))
	if err != nil {
		return nil, err
	}
	a.local = l
	return l, nil
}

// online returns a client connected to the logged-in server.
func (a *app) online() (*client.Client, func(), error) {
	creds, err := client.LoadCredentials(a.home)
	if err != nil {
		return nil, nil, err
	}
	a.creds = creds
	l, err := a.openLocal()
	if err != nil {
		return nil, nil, err
	}
	conn, err := client.Dial(creds)
	if err != nil {
		return nil, nil, err
	}
	a.dialled = true
	return client.New(conn, l), func() { conn.Close() }, nil
}

// call runs fn with a client of the logged-in server and a context that
// bounds its calls by client.CallTimeout: the shape of every command that
// asks the server one thing.
func (a *app) call(fn func(ctx context.Context, c *client.Client) error) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	return fn(ctx, c)
}

// localUser is the logged-in user's name ("" before any login): offline
// answers are attributed to it locally; the server attributes by token.
func (a *app) localUser() string {
	creds, err := client.LoadCredentials(a.home)
	if err != nil {
		return ""
	}
	return creds.User
}

func (a *app) rpcCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.ctx, client.CallTimeout)
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[len(s)-8:]
	}
	return s
}
