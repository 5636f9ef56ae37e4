// The fieldwork command is the inspector's and lead's client: it records
// answers offline in a local store, syncs them with a fieldworkd server and
// prints reports. Run "fieldwork help" for the commands.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

const usage = `usage: fieldwork COMMAND [flags]

Set-up:
  login --server ADDR --token TOKEN|- [--ca FILE] [--tls]   (--token -: read from stdin; or set FIELDWORK_TOKEN)
  whoami
Frameworks:
  frameworks list
  frameworks show ID [--version N]
Inspections (lead / admin, online):
  inspection create --name NAME --framework ID [--unit UNIT]   prints the new id
  inspection list
  team add --inspection ID --user NAME --role lead|inspector|qa|analyst
  team remove --inspection ID --user NAME   (their devices drop the inspection)
  user create --name NAME [--admin]
  token issue --user NAME [--ttl 2160h]
  token revoke --user NAME [--token-id ID]        every token of the user unless --token-id
  inspection lock|unlock --inspection ID [--reason TEXT]
  audit --inspection ID [--case REF] [--format table|json]
  import --inspection ID [--cases F] [--answers F] [--judgements F]
  judge --inspection ID --standard ID --rating RATING --rationale TEXT
Recording (works offline):
  cases --inspection ID
  answer --inspection ID --case REF --question QID --value yes|no|na|N [--note TEXT]
  answers --inspection ID --case REF
  walk --inspection ID --case REF                guided, question by question; resumes where you stopped
  ui [--listen 127.0.0.1:0] [--no-browser]       the offline web form on this laptop (loopback only)
  submit --inspection ID --case REF              (online) refused with the list of unanswered questions
  case-status --inspection ID --case REF --status in_progress|submitted|qa_checked|locked [--reason TEXT]
Sync and reports:
  sync [--batch N]
  status [--format table|json]          unsynced answers, conflicts, and every refused edit
  refused again (--case REF --question Q [--inspection ID] | --op ID)   record a refused edit again
  refused dismiss (--case REF --question Q [--inspection ID] | --op ID) dismiss it (audited at the next sync)
  conflicts [--inspection ID] [--format table|json] [--all]
  resolve --conflict ID --mine | --theirs | --value V [--note TEXT]   (works offline; sent on sync)
  report --inspection ID | --inspections ID,ID… [--by ATTR]… [--format table|json]
  export --inspection ID | --inspections ID,ID… [--by ATTR]… --format csv|xlsx|html --out PATH

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
		fmt.Fprintln(ew, "fieldwork:", client.Err(err))
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
	local  *localstore.Store
	creds  client.Credentials
}

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
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		switch cmd {
		case "frameworks", "inspection", "team", "user", "token":
			cmd, rest = cmd+" "+rest[0], rest[1:]
		}
	}
	handlers := map[string]func([]string) error{
		"login": a.login, "whoami": a.whoami,
		"frameworks list": a.frameworksList, "frameworks show": a.frameworksShow,
		"inspection create": a.inspectionCreate, "inspection list": a.inspectionList,
		"team add": a.teamAdd, "team remove": a.teamRemove, "user create": a.userCreate, "token issue": a.tokenIssue, "token revoke": a.tokenRevoke,
		"inspection lock": a.inspectionLock, "inspection unlock": a.inspectionUnlock, "audit": a.audit,
		"submit": a.submit, "case-status": a.caseStatus,
		"import": a.importFiles, "judge": a.judge,
		"cases": a.cases, "answer": a.answer, "answers": a.answers, "walk": a.walk, "ui": a.ui,
		"sync": a.sync, "status": a.status, "refused": a.refused, "conflicts": a.conflicts, "resolve": a.resolve, "report": a.report, "export": a.export,
	}
	h, ok := handlers[cmd]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
	}
	return h(rest)
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("fieldwork "+name, flag.ContinueOnError)
	fs.SetOutput(termsafe.NewWriter(os.Stderr)) // flag errors quote the bad argument
	return fs
}

func required(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range names {
		if !set[n] {
			return fmt.Errorf("%s: --%s is required", fs.Name(), n)
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// openLocal opens the local store, creating the home directory (0700).
func (a *app) openLocal() (*localstore.Store, error) {
	if a.local != nil {
		return a.local, nil
	}
	if err := os.MkdirAll(a.home, 0o700); err != nil {
		return nil, err
	}
	l, err := localstore.Open(a.ctx, filepath.Join(a.home, "client.db"))
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
	return client.New(conn, l), func() { conn.Close() }, nil
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
	return context.WithTimeout(a.ctx, 60*time.Second)
}

func (a *app) login(args []string) error {
	fs := newFlags("login")
	var c client.Credentials
	fs.StringVar(&c.Server, "server", "", "server `address` (host:port)")
	fs.StringVar(&c.Token, "token", "", "bearer `token` issued by an administrator; - reads it from stdin (default: $FIELDWORK_TOKEN)")
	fs.StringVar(&c.CAFile, "ca", "", "CA certificate `file` to verify the server")
	fs.BoolVar(&c.TLS, "tls", false, "use TLS with the system's roots")
	fs.BoolVar(&c.Insecure, "insecure", false, "refused off loopback (the token would travel in clear); plaintext to loopback needs no flag")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "server"); err != nil {
		return err
	}
	token, err := a.loginToken(fs)
	if err != nil {
		return err
	}
	c.Token = token
	if c.CAFile != "" {
		// Stored absolute: later commands run from any folder.
		if c.CAFile, err = filepath.Abs(c.CAFile); err != nil {
			return fmt.Errorf("login: --ca: %w", err)
		}
	}
	conn, err := client.Dial(c)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	me, err := fieldworkv1.NewAdminServiceClient(conn).WhoAmI(ctx, &fieldworkv1.WhoAmIRequest{})
	if err != nil {
		return fmt.Errorf("login: %w", client.Err(err))
	}
	c.User = me.GetName()
	if old, err := client.LoadCredentials(a.home); err == nil && (old.Server != c.Server || old.User != c.User) {
		l, err := a.openLocal()
		if err != nil {
			return err
		}
		if n, _ := l.PendingCount(a.ctx); n > 0 {
			return fmt.Errorf("login: %d answer(s) of %s on %s are not synced yet; run fieldwork sync first", n, old.User, old.Server)
		}
	}
	if err := client.SaveCredentials(a.home, c); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "logged in to %s as %s\n", c.Server, c.User)
	return nil
}

// loginToken is the token login was given: --token TOKEN as written,
// --token - for one line read from stdin (without echo on a terminal), or
// else $FIELDWORK_TOKEN; the last two keep it out of shell history and
// other users' ps.
func (a *app) loginToken(fs *flag.FlagSet) (string, error) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "token" })
	token := fs.Lookup("token").Value.String()
	switch {
	case given && token == "-":
		var line []byte
		var err error
		if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(a.stderr, "token: ")
			line, err = term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(a.stderr)
		} else {
			line, err = bufio.NewReader(io.LimitReader(a.stdin, 64<<10)).ReadBytes('\n')
			if errors.Is(err, io.EOF) {
				err = nil
			}
		}
		if err != nil {
			return "", fmt.Errorf("login: read the token from stdin: %w", err)
		}
		token = strings.TrimSpace(string(line))
		if token == "" {
			return "", errors.New("login: --token -: stdin held no token")
		}
	case !given:
		token = strings.TrimSpace(os.Getenv("FIELDWORK_TOKEN"))
		if token == "" {
			return "", errors.New("login: give the token: --token TOKEN, --token - (one line on stdin) or FIELDWORK_TOKEN")
		}
	case token == "":
		return "", errors.New("login: --token is empty")
	}
	return token, nil
}

func (a *app) whoami(args []string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	me, err := c.Admin.WhoAmI(ctx, &fieldworkv1.WhoAmIRequest{})
	if err != nil {
		return err
	}
	role := ""
	if me.GetAdmin() {
		role = " (admin)"
	}
	termsafe.Fprintf(a.stdout, "%s%s on %s\n", me.GetName(), role, a.creds.Server)
	return nil
}

func (a *app) frameworksList(args []string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Frameworks.ListFrameworks(ctx, &fieldworkv1.ListFrameworksRequest{})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tRATED\tQUESTIONS\tTITLE")
	for _, f := range resp.GetFrameworks() {
		termsafe.Fprintf(tw, "%s\t%d\t%v\t%d\t%s\n", f.GetId(), f.GetVersion(), f.GetRated(), f.GetQuestionCount(), f.GetTitle())
	}
	return tw.Flush()
}

func (a *app) frameworksShow(args []string) error {
	fs := newFlags("frameworks show")
	version := fs.Int("version", 0, "framework `version` (0: latest)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("frameworks show: give a framework id")
	}
	id := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	fw, err := c.Framework(ctx, id, *version)
	if err != nil {
		return err
	}
	printFramework(a.stdout, fw)
	return nil
}

func printFramework(w io.Writer, fw *framework.Framework) {
	termsafe.Fprintf(w, "%s v%d — %s\n", fw.ID, fw.Version, fw.Title)
	if fw.Rated() {
		var bands []string
		for _, b := range fw.Rating.Bands {
			bands = append(bands, fmt.Sprintf("%s ≥%d%% (%d pts)", b.Rating, b.MinPercent, b.Points))
		}
		termsafe.Fprintf(w, "rating: %s; bands: %s\n", fw.Rating.Rule, strings.Join(bands, ", "))
	} else {
		fmt.Fprintln(w, "rating: none (shares only)")
	}
	applies := func(q *framework.Question) string {
		var parts []string
		for _, c := range q.AppliesWhen {
			parts = append(parts, c.String())
		}
		if len(parts) == 0 {
			return ""
		}
		return "  [applies where " + strings.Join(parts, " and ") + "]"
	}
	typ := func(q *framework.Question) string {
		if q.Type == framework.TypeCount {
			return " (count)"
		}
		return ""
	}
	for _, d := range fw.Domains {
		termsafe.Fprintf(w, "\n%s %s\n", d.ID, d.Title)
		for _, s := range d.Standards {
			termsafe.Fprintf(w, "  %s %s (%s)\n", s.ID, s.Title, strings.ReplaceAll(s.Kind, "_", "-"))
			for _, kq := range s.KeyQuestions {
				termsafe.Fprintf(w, "    %s %s%s\n", kq.ID, kq.Text, applies(kq))
				for _, p := range kq.Prompts {
					termsafe.Fprintf(w, "      %s %s%s%s\n", p.ID, p.Text, typ(p), applies(p))
				}
			}
			for _, q := range s.Supplementary {
				termsafe.Fprintf(w, "    %s %s%s%s\n", q.ID, q.Text, typ(q), applies(q))
			}
		}
	}
	if len(fw.Supplementary) > 0 {
		fmt.Fprintln(w, "\nSupplementary")
		for _, q := range fw.Supplementary {
			termsafe.Fprintf(w, "  %s %s%s%s\n", q.ID, q.Text, typ(q), applies(q))
		}
	}
}

func (a *app) inspectionCreate(args []string) error {
	fs := newFlags("inspection create")
	name := fs.String("name", "", "inspection `name`")
	unit := fs.String("unit", "", "inspected `unit` (PDU or region)")
	fwID := fs.String("framework", "", "framework `id`")
	fwVersion := fs.Int("framework-version", 0, "framework `version` (0: latest)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "name", "framework"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Inspections.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: *name, Unit: *unit, FrameworkId: *fwID, FrameworkVersion: int32(*fwVersion)})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "%s\n", resp.GetInspection().GetId())
	return nil
}

func (a *app) inspectionList(args []string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Inspections.ListInspections(ctx, &fieldworkv1.ListInspectionsRequest{})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tFRAMEWORK\tSTATUS\tYOUR ROLE")
	for _, in := range resp.GetInspections() {
		termsafe.Fprintf(tw, "%s\t%s\t%s@%d\t%s\t%s\n", in.GetId(), in.GetName(), in.GetFrameworkId(), in.GetFrameworkVersion(), in.GetStatus(), in.GetRole())
	}
	return tw.Flush()
}

func (a *app) teamAdd(args []string) error {
	fs := newFlags("team add")
	insp := fs.String("inspection", "", "inspection `id`")
	user := fs.String("user", "", "user `name`")
	role := fs.String("role", "", "`role`: lead, inspector, qa or analyst")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "user", "role"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	if _, err := c.Admin.AddTeamMember(ctx, &fieldworkv1.AddTeamMemberRequest{InspectionId: *insp, User: *user, Role: *role}); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "%s is %s on %s\n", *user, *role, *insp)
	return nil
}

func (a *app) teamRemove(args []string) error {
	fs := newFlags("team remove")
	insp := fs.String("inspection", "", "inspection `id`")
	user := fs.String("user", "", "user `name`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "user"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Admin.RemoveTeamMember(ctx, &fieldworkv1.RemoveTeamMemberRequest{InspectionId: *insp, User: *user})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "%s (%s) is off the team of %s; their devices drop it and its %d case(s) at their next sync\n",
		*user, resp.GetRole(), *insp, resp.GetWithdrawnCases())
	return nil
}

func (a *app) userCreate(args []string) error {
	fs := newFlags("user create")
	name := fs.String("name", "", "user `name` (no personal names needed: e.g. insp.ahmed)")
	admin := fs.Bool("admin", false, "make the user an administrator")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "name"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	if _, err := c.Admin.CreateUser(ctx, &fieldworkv1.CreateUserRequest{Name: *name, Admin: *admin}); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "created user %s\n", *name)
	return nil
}

func (a *app) tokenIssue(args []string) error {
	fs := newFlags("token issue")
	user := fs.String("user", "", "user `name`")
	ttl := fs.Duration("ttl", 90*24*time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "user"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Admin.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: *user, TtlSeconds: int64(ttl.Seconds())})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, resp.GetToken())
	termsafe.Fprintf(a.stderr, "token %s for %s, expires %s; it is shown only once\n", resp.GetTokenId(), *user, resp.GetExpiresAt().AsTime().Format(time.RFC3339))
	return nil
}

func (a *app) tokenRevoke(args []string) error {
	fs := newFlags("token revoke")
	user := fs.String("user", "", "user `name`")
	id := fs.String("token-id", "", "revoke only this token (the id printed when it was issued)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "user"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Admin.RevokeToken(ctx, &fieldworkv1.RevokeTokenRequest{User: *user, TokenId: *id})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "revoked %d token(s) of %s\n", resp.GetRevoked(), *user)
	return nil
}

func (a *app) inspectionLock(args []string) error {
	return a.inspectionStatus("lock", framework.InspectionLocked, args)
}
func (a *app) inspectionUnlock(args []string) error {
	return a.inspectionStatus("unlock", framework.InspectionFieldwork, args)
}

func (a *app) inspectionStatus(verb, to string, args []string) error {
	fs := newFlags("inspection " + verb)
	insp := fs.String("inspection", "", "inspection `id`")
	reason := fs.String("reason", "", "why (required to unlock; audited)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	device, _ := c.Local.DeviceID(a.ctx)
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Inspections.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: *insp, Status: to, Reason: *reason, DeviceId: device})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "inspection %s is %s\n", resp.GetInspection().GetId(), resp.GetInspection().GetStatus())
	return nil
}

func (a *app) submit(args []string) error {
	fs := newFlags("submit")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "case"); err != nil {
		return err
	}
	return a.setCaseStatus(*insp, *caseRef, framework.CaseSubmitted, "")
}

func (a *app) caseStatus(args []string) error {
	fs := newFlags("case-status")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	to := fs.String("status", "", "new `status`: in_progress, submitted, qa_checked or locked")
	reason := fs.String("reason", "", "why (required to move a case back; audited)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "case", "status"); err != nil {
		return err
	}
	return a.setCaseStatus(*insp, *caseRef, *to, *reason)
}

func (a *app) setCaseStatus(insp, caseRef, to, reason string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	// Unsynced answers count towards completeness: push them first.
	if n, _ := c.Local.PendingCount(a.ctx); n > 0 {
		if _, err := c.SyncNow(a.ctx); err != nil {
			return fmt.Errorf("sync before changing status: %w", err)
		}
	}
	device, _ := c.Local.DeviceID(a.ctx)
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Inspections.SetCaseStatus(ctx, &fieldworkv1.SetCaseStatusRequest{InspectionId: insp, CaseRef: caseRef, Status: to, Reason: reason, DeviceId: device})
	if err != nil {
		return err
	}
	if _, err := c.SyncNow(a.ctx); err != nil {
		termsafe.Fprintf(a.stderr, "status changed; local store not refreshed: %v\n", err)
	}
	termsafe.Fprintf(a.stdout, "case %s is %s\n", resp.GetCase().GetCaseRef(), resp.GetCase().GetStatus())
	return nil
}

func (a *app) audit(args []string) error {
	fs := newFlags("audit")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "only this case `reference`")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection"); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("audit: unknown format %q (want table or json)", *format)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	var entries []*fieldworkv1.AuditEntry
	for after := int64(0); ; {
		ctx, cancel := a.rpcCtx()
		resp, err := c.Audit.ListAudit(ctx, &fieldworkv1.ListAuditRequest{InspectionId: *insp, CaseRef: *caseRef, After: after})
		cancel()
		if err != nil {
			return err
		}
		entries = append(entries, resp.GetEntries()...)
		if after = resp.GetNext(); after == 0 {
			break
		}
	}
	if *format == "json" {
		type row struct {
			Seq    int64           `json:"seq"`
			At     time.Time       `json:"at"`
			User   string          `json:"user"`
			Device string          `json:"device"`
			Action string          `json:"action"`
			Entity string          `json:"entity"`
			Before json.RawMessage `json:"before,omitempty"`
			After  json.RawMessage `json:"after,omitempty"`
		}
		rows := []row{}
		for _, e := range entries {
			r := row{Seq: e.GetSeq(), At: e.GetAt().AsTime(), User: e.GetUser(), Device: e.GetDeviceId(), Action: e.GetAction(), Entity: e.GetEntity()}
			if e.GetBefore() != "" {
				r.Before = json.RawMessage(e.GetBefore())
			}
			if e.GetAfter() != "" {
				r.After = json.RawMessage(e.GetAfter())
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tWHEN\tWHO\tDEVICE\tACTION\tENTITY\tBEFORE\tAFTER")
	for _, e := range entries {
		termsafe.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.GetSeq(), e.GetAt().AsTime().Format("2006-01-02 15:04:05"), e.GetUser(),
			shortID(e.GetDeviceId()), e.GetAction(), e.GetEntity(), clipText(e.GetBefore(), 40), clipText(e.GetAfter(), 60))
	}
	return tw.Flush()
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (a *app) importFiles(args []string) error {
	fs := newFlags("import")
	insp := fs.String("inspection", "", "inspection `id`")
	cases := fs.String("cases", "", "cases.csv `file`")
	answers := fs.String("answers", "", "answers.csv `file`")
	judgements := fs.String("judgements", "", "judgements.csv `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection"); err != nil {
		return err
	}
	if *cases == "" && *answers == "" && *judgements == "" {
		return errors.New("import: give at least one of --cases, --answers, --judgements")
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	device, err := c.Local.DeviceID(a.ctx)
	if err != nil {
		return err
	}
	read := func(path string) ([]byte, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		return data, nil
	}
	ctx, cancel := a.rpcCtx()
	defer cancel()
	// Cases first: answers refer to them.
	steps := []struct {
		path string
		run  func(data []byte) (string, error)
	}{
		{*cases, func(data []byte) (string, error) {
			resp, err := c.Inspections.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: *insp, Csv: data, DeviceId: device})
			return fmt.Sprintf("cases: %d created, %d updated", resp.GetCreated(), resp.GetUpdated()), err
		}},
		{*answers, func(data []byte) (string, error) {
			resp, err := c.Inspections.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: *insp, Csv: data, DeviceId: device})
			return fmt.Sprintf("answers: %d stored, %d unchanged", resp.GetApplied(), resp.GetUnchanged()), err
		}},
		{*judgements, func(data []byte) (string, error) {
			resp, err := c.Inspections.ImportJudgements(ctx, &fieldworkv1.ImportJudgementsRequest{InspectionId: *insp, Csv: data, DeviceId: device})
			return fmt.Sprintf("judgements: %d recorded", resp.GetApplied()), err
		}},
	}
	for _, step := range steps {
		if step.path == "" {
			continue
		}
		data, err := read(step.path)
		if err != nil {
			return err
		}
		msg, err := step.run(data)
		if err != nil {
			return fmt.Errorf("import %s: %w", step.path, client.Err(err))
		}
		fmt.Fprintln(a.stdout, msg)
	}
	return nil
}

func (a *app) judge(args []string) error {
	fs := newFlags("judge")
	insp := fs.String("inspection", "", "inspection `id`")
	std := fs.String("standard", "", "judged standard `id` (e.g. P1.1)")
	rating := fs.String("rating", "", "`rating` (e.g. Good)")
	rationale := fs.String("rationale", "", "the evidence for the rating")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "standard", "rating", "rationale"); err != nil {
		return err
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	device, err := c.Local.DeviceID(a.ctx)
	if err != nil {
		return err
	}
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Inspections.RecordJudgement(ctx, &fieldworkv1.RecordJudgementRequest{InspectionId: *insp, StandardId: *std, Rating: *rating, Rationale: *rationale, DeviceId: device})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "%s: %s (by %s)\n", resp.GetJudgement().GetStandardId(), resp.GetJudgement().GetRating(), resp.GetJudgement().GetJudgedBy())
	return nil
}

func (a *app) cases(args []string) error {
	fs := newFlags("cases")
	insp := fs.String("inspection", "", "inspection `id`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	in, err := l.Inspection(a.ctx, *insp)
	if err != nil {
		return err
	}
	fw, err := l.Framework(a.ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return err
	}
	cs, err := l.Cases(a.ctx, *insp)
	if err != nil {
		return err
	}
	answers, err := l.Answers(a.ctx, *insp, "")
	if err != nil {
		return err
	}
	attrs := map[string]map[string]string{}
	for _, c := range cs {
		attrs[c.Ref] = c.Attributes
	}
	answered := map[string]int{}
	for _, an := range answers {
		if q, ok := fw.Question(an.QuestionID); ok {
			if applies, _ := q.AppliesTo(attrs[an.CaseRef]); applies {
				answered[an.CaseRef]++
			}
		}
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tINSPECTOR\tSTATUS\tANSWERED\tSENTENCE\tROSH\tMAPPA")
	for _, c := range cs {
		need := 0
		for _, q := range fw.Questions() {
			if ok, _ := q.AppliesTo(c.Attributes); ok {
				need++
			}
		}
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", c.Ref, c.Inspector, c.Status, answered[c.Ref], need,
			c.Attributes["sentence_type"], c.Attributes["rosh"], c.Attributes["mappa"])
	}
	return tw.Flush()
}

func (a *app) answer(args []string) error {
	fs := newFlags("answer")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	qid := fs.String("question", "", "question `id` (e.g. 2.1.3a)")
	value := fs.String("value", "", "yes, no, na or a whole number")
	note := fs.String("note", "", "evidence note")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "case", "question", "value"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	user := a.localUser()
	op, err := l.Record(a.ctx, user, *insp, *caseRef, *qid, *value, *note)
	if err != nil {
		return err
	}
	n, _ := l.PendingCount(a.ctx)
	termsafe.Fprintf(a.stdout, "saved %s %s = %s (%d unsynced)\n", op.CaseRef, op.QuestionID, op.Value, n)
	return nil
}

func (a *app) walk(args []string) error {
	fs := newFlags("walk")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "case"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	user := a.localUser()
	return client.Walk(a.ctx, l, user, *insp, *caseRef, a.stdin, a.stdout)
}

func (a *app) ui(args []string) error {
	fs := newFlags("ui")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `address` to serve on (port 0: a free one)")
	noBrowser := fs.Bool("no-browser", false, "do not try to open a browser")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("ui: %s is not a loopback address: the form serves this laptop only", host)
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	var c *client.Client
	user := ""
	if creds, err := client.LoadCredentials(a.home); err == nil {
		user = creds.User
		conn, err := client.Dial(creds)
		if err != nil {
			return err
		}
		defer conn.Close()
		c = client.New(conn, l)
	} else {
		c = client.New(nil, l)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	ui := client.NewUI(c, l, user)
	base := "http://" + lis.Addr().String()
	// The browser gets a one-time code in a file only this user can read,
	// never on a command line (which any local user reads with ps).
	opened := false
	if !*noBrowser && (os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "") {
		if opener, err := exec.LookPath("xdg-open"); err == nil {
			if page, remove, err := ui.WriteStartPage(base); err == nil {
				defer remove()
				time.AfterFunc(client.CodeTTL, remove) // the code is dead by then
				if cmd := client.BrowserCommand(opener, page); cmd.Start() == nil {
					opened = true
					go cmd.Wait()
				}
			}
		}
	}
	if opened {
		fmt.Fprintf(a.stdout, "fieldwork ui: opened %s in your browser (works offline; Ctrl-C to stop).\n", base)
	} else {
		fmt.Fprintf(a.stdout, "fieldwork ui: open %s\n(a one-time link: it works once, within %d seconds; works offline; Ctrl-C to stop)\n", ui.StartURL(base), int(client.CodeTTL.Seconds()))
	}
	fmt.Fprintln(a.stdout, "Press Enter here for a new sign-in link (for another browser, or once a session has ended).")
	go func() {
		sc := bufio.NewScanner(a.stdin)
		for sc.Scan() {
			fmt.Fprintf(a.stdout, "fieldwork ui: open %s (works once, within %d seconds)\n", ui.StartURL(base), int(client.CodeTTL.Seconds()))
		}
	}()
	hs := &http.Server{Handler: ui.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-a.ctx.Done(); hs.Close() }()
	if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *app) answers(args []string) error {
	fs := newFlags("answers")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "inspection", "case"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	as, err := l.Answers(a.ctx, *insp, *caseRef)
	if err != nil {
		return err
	}
	noLonger, err := noLongerApplies(a.ctx, l, *insp, *caseRef)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUESTION\tVALUE\tREVISION\tBY\tNOTE")
	stale := 0
	for _, an := range as {
		if noLonger(an) {
			an.Value += " (no longer applies)"
			stale++
		}
		termsafe.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", an.QuestionID, an.Value, an.Revision, an.UpdatedBy, an.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if stale > 0 {
		fmt.Fprintf(a.stdout, "%d answer(s) no longer apply: the case changed after they were given, and they count in no figure.\n"+
			"Answer na to clear one (fieldwork answer --value na), or ask the lead to correct the case.\n", stale)
	}
	return nil
}

// noLongerApplies returns the test of whether an answer of a case on this
// device no longer applies to it (framework's Question.Counts), judged
// offline from the case's attributes and framework held locally.
func noLongerApplies(ctx context.Context, l *localstore.Store, inspectionID, caseRef string) (func(framework.Answer) bool, error) {
	in, err := l.Inspection(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return nil, err
	}
	cs, err := l.Cases(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Ref == caseRef {
			return func(an framework.Answer) bool { return fw.NoLongerApplies(c.Attributes, an.QuestionID, an.Value) }, nil
		}
	}
	return func(framework.Answer) bool { return false }, nil
}

func (a *app) sync(args []string) error {
	fs := newFlags("sync")
	batch := fs.Int("batch", 500, "ops per pushed batch (1–5000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 || *batch > 5000 {
		return fmt.Errorf("sync: --batch %d is outside 1–5000", *batch)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	c.BatchSize = *batch
	tty := false
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
		c.Progress = func(p client.SyncProgress) {
			if p.Pages > 0 {
				fmt.Fprintf(a.stderr, "\rpulled %d page(s), %d change(s)        ", p.Pages, p.Changes)
			} else {
				fmt.Fprintf(a.stderr, "\rpushed %d/%d op(s), %d acknowledged   ", p.Sent, p.Pending, p.Acknowledged)
			}
		}
	}
	res, err := c.SyncNow(a.ctx)
	if tty {
		fmt.Fprintln(a.stderr)
	}
	if err != nil {
		return fmt.Errorf("sync: %w (unsynced answers are kept; run fieldwork sync again)", err)
	}
	fmt.Fprintf(a.stdout, "synced: %d applied, %d conflict(s), %d rejected; pulled %d change(s) to cursor %d\n",
		res.Applied, res.Conflicts, res.Rejected, res.Changes, res.Cursor)
	if res.DeviceReused > 0 {
		fmt.Fprintf(a.stdout, "note: this laptop's store was restored from a backup or copied from another laptop (the server had seen its\n"+
			"sequence numbers from the other copy). %d edit(s) were applied or recorded as conflicts, none dropped; it now syncs as a new device.\n", res.DeviceReused)
	}
	if rs, _ := c.Local.Rejections(a.ctx); len(rs) > 0 {
		a.printRefused(rs)
	}
	return nil
}

// printRefused lists refused edits with what their author needs to act.
func (a *app) printRefused(rs []localstore.Rejection) {
	fmt.Fprintf(a.stdout, "refused edits: %d (kept here until you record them again or dismiss them)\n", len(rs))
	for _, r := range rs {
		termsafe.Fprintf(a.stdout, "  %s %s = %s", r.CaseRef, r.QuestionID, r.Value)
		if r.Note != "" {
			termsafe.Fprintf(a.stdout, " (note: %s)", r.Note)
		}
		termsafe.Fprintf(a.stdout, "\n    refused by the server %s: %s\n    op %s, inspection %s\n",
			r.At.Local().Format("2006-01-02 15:04"), r.Reason, r.OpID, r.InspectionID)
	}
	fmt.Fprintln(a.stdout, "  record one again: fieldwork refused again --case REF --question Q")
	fmt.Fprintln(a.stdout, "  or dismiss it:    fieldwork refused dismiss --case REF --question Q")
}

// refused records a refused edit again or dismisses it.
func (a *app) refused(args []string) error {
	if len(args) == 0 || (args[0] != "again" && args[0] != "dismiss") {
		return errors.New("refused: say again or dismiss (fieldwork refused again|dismiss --case REF --question Q)")
	}
	verb := args[0]
	fs := newFlags("refused " + verb)
	insp := fs.String("inspection", "", "inspection `id` (when a case ref is in several)")
	ref := fs.String("case", "", "case `ref`")
	q := fs.String("question", "", "question `id`")
	op := fs.String("op", "", "the refused op's `id` (or its first 8 or more characters)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("refused %s: unexpected argument %q", verb, fs.Arg(0))
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	sel := localstore.RefusalSelector{OpID: *op, InspectionID: *insp, CaseRef: *ref, QuestionID: *q}
	if verb == "again" {
		o, err := l.RecordAgain(a.ctx, a.localUser(), sel)
		if err != nil {
			return fmt.Errorf("refused again: %w", err)
		}
		n, _ := l.PendingCount(a.ctx)
		termsafe.Fprintf(a.stdout, "recorded again: %s %s = %s (%d unsynced)\n", o.CaseRef, o.QuestionID, o.Value, n)
		return nil
	}
	rs, err := l.Dismiss(a.ctx, sel)
	if err != nil {
		return fmt.Errorf("refused dismiss: %w", err)
	}
	for _, r := range rs {
		termsafe.Fprintf(a.stdout, "dismissed: %s %s = %s (the server's audit trail records it at the next sync)\n", r.CaseRef, r.QuestionID, r.Value)
	}
	return nil
}

func (a *app) status(args []string) error {
	fs := newFlags("status")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	creds, _ := client.LoadCredentials(a.home)
	n, err := l.PendingCount(a.ctx)
	if err != nil {
		return err
	}
	last, _ := l.Meta(a.ctx, "last_sync")
	if last == "" {
		last = "never"
	}
	cs, err := l.Conflicts(a.ctx, "", false)
	if err != nil {
		return err
	}
	rs, err := l.Rejections(a.ctx)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		if rs == nil {
			rs = []localstore.Rejection{}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Server        string                 `json:"server"`
			User          string                 `json:"user"`
			Unsynced      int                    `json:"unsynced"`
			LastSync      string                 `json:"last_sync"`
			OpenConflicts int                    `json:"open_conflicts"`
			Refused       []localstore.Rejection `json:"refused"`
		}{creds.Server, creds.User, n, last, len(cs), rs})
	case "table":
	default:
		return fmt.Errorf("status: --format %q is not table or json", *format)
	}
	fmt.Fprintf(a.stdout, "server: %s as %s\nunsynced answers: %d\nlast sync: %s\nopen conflicts: %d\n",
		creds.Server, creds.User, n, last, len(cs))
	if len(rs) == 0 {
		fmt.Fprintln(a.stdout, "refused edits: 0")
		return nil
	}
	a.printRefused(rs)
	return nil
}

func (a *app) conflicts(args []string) error {
	fs := newFlags("conflicts")
	insp := fs.String("inspection", "", "only this inspection `id`")
	format := fs.String("format", "table", "table or json")
	all := fs.Bool("all", false, "include resolved conflicts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	cs, err := l.Conflicts(a.ctx, *insp, *all)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if cs == nil {
			cs = []framework.Conflict{}
		}
		return enc.Encode(cs)
	case "table":
	default:
		return fmt.Errorf("conflicts: unknown format %q (want table or json)", *format)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].CreatedAt.Before(cs[j].CreatedAt) })
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCASE\tQUESTION\tSERVER (rev)\tTHEIRS/YOURS\tBY\tWHEN\tSTATUS")
	for _, c := range cs {
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%s (%d)\t%s\t%s@%s\t%s\t%s\n", c.ID, c.CaseRef, c.QuestionID, c.ServerValue, c.ServerRevision,
			c.ClientValue, c.ClientUser, shortID(c.ClientDevice), c.CreatedAt.Format("2006-01-02 15:04"), c.Status)
	}
	return tw.Flush()
}

func (a *app) resolve(args []string) error {
	fs := newFlags("resolve")
	id := fs.String("conflict", "", "conflict `id` (see fieldwork conflicts)")
	mine := fs.Bool("mine", false, "keep the edit the server refused")
	theirs := fs.Bool("theirs", false, "keep the value the server kept")
	value := fs.String("value", "", "set a new `value` instead")
	note := fs.String("note", "", "note for a new value")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "conflict"); err != nil {
		return err
	}
	choice, n := "", 0
	if *mine {
		choice, n = framework.ResolveMine, n+1
	}
	if *theirs {
		choice, n = framework.ResolveTheirs, n+1
	}
	if *value != "" {
		choice, n = framework.ResolveValue, n+1
	}
	if n != 1 {
		return errors.New("resolve: give exactly one of --mine, --theirs, --value")
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	op, err := l.Resolve(a.ctx, a.localUser(), *id, choice, *value, *note)
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "resolution queued: %s %s = %s (%s); run fieldwork sync to send it\n", op.CaseRef, op.QuestionID, op.Value, choice)
	return nil
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[len(s)-8:]
	}
	return s
}

type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }
func (l *listValue) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// reportFlags are the flags report and export share.
type reportFlags struct {
	inspection  string
	inspections listValue
	by          listValue
}

func (rf *reportFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&rf.inspection, "inspection", "", "inspection `id`")
	fs.Var(&rf.inspections, "inspections", "pool these inspection `ids` (comma-separated; one framework version)")
	fs.Var(&rf.by, "by", "break key questions down by case `attribute` (repeatable or comma-separated; e.g. sentence_type,sex)")
}

func (rf *reportFlags) request(name string) (*fieldworkv1.GetReportRequest, error) {
	switch {
	case rf.inspection != "" && len(rf.inspections) > 0:
		return nil, fmt.Errorf("%s: give --inspection or --inspections, not both", name)
	case rf.inspection == "" && len(rf.inspections) == 0:
		return nil, fmt.Errorf("%s: --inspection (or --inspections) is required", name)
	}
	return &fieldworkv1.GetReportRequest{InspectionId: rf.inspection, InspectionIds: rf.inspections, By: rf.by}, nil
}

func (a *app) fetchReport(c *client.Client, req *fieldworkv1.GetReportRequest) (*aggregate.Report, error) {
	ctx, cancel := a.rpcCtx()
	defer cancel()
	resp, err := c.Reports.GetReport(ctx, req)
	if err != nil {
		return nil, err
	}
	return client.ReportFromProto(resp.GetReport()), nil
}

func (a *app) report(args []string) error {
	fs := newFlags("report")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs); err != nil {
		return err
	}
	req, err := rf.request("report")
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("report: unknown format %q (want table or json)", *format)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	r, err := a.fetchReport(c, req)
	if err != nil {
		return err
	}
	if *format == "json" {
		return report.JSON(a.stdout, r)
	}
	return report.Terminal(a.stdout, r)
}

func (a *app) export(args []string) error {
	fs := newFlags("export")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "", "csv (a folder of tidy files, or a .zip), xlsx or html")
	out := fs.String("out", "", "output `path`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "format", "out"); err != nil {
		return err
	}
	req, err := rf.request("export")
	if err != nil {
		return err
	}
	switch *format {
	case "csv", "xlsx", "html":
	default:
		return fmt.Errorf("export: unknown format %q (want csv, xlsx or html)", *format)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	r, err := a.fetchReport(c, req)
	if err != nil {
		return err
	}
	ctx, cancel := a.rpcCtx()
	defer cancel()
	fw, err := c.Framework(ctx, r.FrameworkID, r.FrameworkVersion)
	if err != nil {
		return err
	}
	// Written whole or not at all, 0600, never through a symlink.
	switch *format {
	case "csv":
		err = report.ExportCSV(*out, r, fw)
	case "xlsx":
		err = report.WriteFile(*out, func(w io.Writer) error { return report.ExportXLSX(w, r, fw) })
	default:
		err = report.WriteFile(*out, func(w io.Writer) error { return report.ExportHTML(w, r, fw) })
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	termsafe.Fprintf(a.stdout, "wrote %s\n", *out)
	return nil
}
