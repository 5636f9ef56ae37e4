// The fieldworkd command serves the fieldwork gRPC API on an embedded
// SQLite database.
//
//	fieldworkd [serve] [--db PATH] [--listen ADDR] [--tls-cert F --tls-key F] [--framework FILE]... [--http ADDR] [--metrics-addr ADDR] [--log-format text|json] [--insecure]
//	fieldworkd [--db PATH] admin-token
//	fieldworkd [--db PATH] recount [--fix]
//	fieldworkd [--db PATH] backup --to FILE [--force]
//	fieldworkd [--db PATH] purge --inspection ID
//	fieldworkd dev-cert [DIR] [HOST...]
//
// Each command parses its own flags and refuses any it does not take, and
// any stray argument. The server's flags may also come before the command
// (fieldworkd --db PATH admin-token), as scripts and the README use them;
// there too a flag the command does not take is refused.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "fieldworkd:", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		os.Exit(1)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the values every command's flags write to.
type options struct {
	cfg        server.Config
	httpAddr   string
	metrics    string
	logFormat  string
	frameworks listFlag
	fix        bool
	backupTo   string
	force      bool
	inspection string
}

// A command is one subcommand: its usage line, the flags it takes (added
// to its own FlagSet) and what it does with the parsed options and the
// arguments left after its flags.
type command struct {
	usage string
	flags func(fs *flag.FlagSet, o *options)
	run   func(ctx context.Context, o *options, args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"serve": {
		usage: "serve [flags]                       serve the API (the default command)",
		flags: serveFlags,
		run:   serve,
	},
	"admin-token": {
		usage: "admin-token [--db PATH]             print a new administrator token on stdout",
		flags: dbFlag,
		run:   adminToken,
	},
	"recount": {
		usage: "recount [--db PATH] [--fix]         check the kept per-question counts against a full recount",
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlag(fs, o)
			fs.BoolVar(&o.fix, "fix", false, "rewrite the kept counts that differ from the recount")
		},
		run: recount,
	},
	"backup": {
		usage: "backup [--db PATH] --to FILE [--force] copy the database while it is served (owner-only, checked)",
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlag(fs, o)
			fs.StringVar(&o.backupTo, "to", "", "write the copy to this `file` (refused if it exists, unless --force)")
			fs.BoolVar(&o.force, "force", false, "replace an existing file at --to (never the database itself)")
		},
		run: backup,
	},
	"purge": {
		usage: "purge [--db PATH] --inspection ID   remove a published inspection's case data for good, keeping its report frozen",
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlag(fs, o)
			fs.StringVar(&o.inspection, "inspection", "", "the published (locked) inspection's `id`")
		},
		run: purge,
	},
	"dev-cert": {
		usage: "dev-cert [DIR] [HOST...]            write a self-signed cert.pem and key.pem (default DIR: ./tls)",
		flags: func(*flag.FlagSet, *options) {},
		run:   devCert,
	},
}

var commandOrder = []string{"serve", "admin-token", "recount", "backup", "purge", "dev-cert"}

func dbFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.cfg.DBPath, "db", o.cfg.DBPath, "SQLite database `file` (created and migrated if missing)")
}

func serveFlags(fs *flag.FlagSet, o *options) {
	dbFlag(fs, o)
	fs.StringVar(&o.cfg.ListenAddr, "listen", o.cfg.ListenAddr, "`address` to serve gRPC on")
	fs.StringVar(&o.cfg.TLSCertFile, "tls-cert", o.cfg.TLSCertFile, "TLS certificate `file` (PEM)")
	fs.StringVar(&o.cfg.TLSKeyFile, "tls-key", o.cfg.TLSKeyFile, "TLS private key `file` (PEM)")
	fs.BoolVar(&o.cfg.AllowInsecure, "insecure", o.cfg.AllowInsecure, "allow plaintext on a non-loopback address")
	fs.StringVar(&o.httpAddr, "http", o.httpAddr, "also serve the lead's live view (web) on this `address`, e.g. 127.0.0.1:7080")
	fs.StringVar(&o.metrics, "metrics-addr", o.metrics, "serve Prometheus metrics (unauthenticated, no personal data) at http://`address`/metrics, e.g. 127.0.0.1:9464")
	fs.StringVar(&o.logFormat, "log-format", o.logFormat, "log `format` on stderr: text or json (one line per RPC)")
	fs.Var(&o.frameworks, "framework", "load a framework `file` (JSON, see docs/frameworks.md); repeatable")
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	// Before the flags: "fieldworkd --version" is not a serve flag.
	if len(args) > 0 && (args[0] == "version" || args[0] == "--version") {
		if len(args) > 1 {
			return fmt.Errorf("%s: unexpected argument %q", args[0], args[1])
		}
		fmt.Fprintln(stdout, buildinfo.Line("fieldworkd"))
		fmt.Fprintln(stdout, buildinfo.ProtocolLine()+"; "+server.ServesLine())
		return nil
	}
	name, o, rest, err := parse(args)
	if err != nil {
		return err
	}
	return commands[name].run(ctx, o, rest, stdout)
}

// parse reads the flags before the command (the server's), picks the
// command (serve when none is named), and parses the rest with the
// command's own FlagSet. It returns the command's name, the options and
// the arguments left for the command.
func parse(args []string) (string, *options, []string, error) {
	o := &options{cfg: server.DefaultConfig(), logFormat: "text"}
	top := flag.NewFlagSet("fieldworkd", flag.ContinueOnError)
	top.Usage = func() {
		fmt.Fprint(top.Output(), "usage:\n")
		for _, name := range commandOrder {
			fmt.Fprintf(top.Output(), "  fieldworkd %s\n", commands[name].usage)
		}
		fmt.Fprint(top.Output(), "  fieldworkd version | --version        the program, module version and VCS revision of this build, and the oldest client it serves\n")
		fmt.Fprint(top.Output(), "\nThe flags of serve may also come before the command:\n  fieldworkd [--db PATH] admin-token\n\nflags of serve:\n")
		top.PrintDefaults()
	}
	serveFlags(top, o)
	if err := top.Parse(args); err != nil {
		return "", nil, nil, err
	}
	name, rest := "serve", top.Args()
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		top.Usage()
		return "", nil, nil, fmt.Errorf("unknown command %q", name)
	}
	fs := flag.NewFlagSet("fieldworkd "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fieldworkd %s\n", cmd.usage)
		fs.PrintDefaults()
	}
	cmd.flags(fs, o) // after top.Parse: its defaults are the values given before the command
	var stray []string
	top.Visit(func(f *flag.Flag) {
		if fs.Lookup(f.Name) == nil {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		fs.Usage()
		return "", nil, nil, fmt.Errorf("%s does not take %s", name, strings.Join(stray, ", "))
	}
	if err := fs.Parse(rest); err != nil {
		return "", nil, nil, err
	}
	if name != "dev-cert" && fs.NArg() > 0 {
		fs.Usage()
		return "", nil, nil, fmt.Errorf("%s takes no arguments, got %q", name, strings.Join(fs.Args(), " "))
	}
	return name, o, fs.Args(), nil
}

func serve(ctx context.Context, o *options, _ []string, _ io.Writer) error {
	cfg := o.cfg
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	cfg.FrameworkFiles = o.frameworks
	logger, err := newLogger(o.logFormat, os.Stderr, slog.LevelInfo)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	lis, err := srv.Listen()
	if err != nil {
		return err
	}
	cfg.Logger.Info("fieldworkd serving", "addr", lis.Addr().String(), "db", cfg.DBPath, "tls", cfg.TLSCertFile != "")
	if cfg.TLSCertFile != "" {
		reloadTLSOnHangup(ctx, srv, cfg.Logger)
	}
	httpErr := make(chan error, 1)
	if o.httpAddr != "" {
		hl, err := srv.ListenOn(o.httpAddr)
		if err != nil {
			return err
		}
		cfg.Logger.Info("live view serving", "url", "http://"+hl.Addr().String()+"/")
		go func() { httpErr <- srv.ServeWeb(ctx, hl) }()
	} else {
		httpErr <- nil
	}
	metricsErr := make(chan error, 1)
	if o.metrics != "" {
		// Its own listener, apart from the live view: unauthenticated, for
		// a scraper on loopback or a monitoring network (docs/operations.md).
		ml, err := net.Listen("tcp", o.metrics)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		cfg.Logger.Info("metrics serving", "url", "http://"+ml.Addr().String()+"/metrics")
		go func() { metricsErr <- srv.ServeMetrics(ctx, ml) }()
	} else {
		metricsErr <- nil
	}
	if err := srv.Serve(ctx, lis); err != nil {
		return err
	}
	if err := errors.Join(<-httpErr, <-metricsErr); err != nil {
		return err
	}
	cfg.Logger.Info("fieldworkd stopped")
	return nil
}

// reloadTLSOnHangup reloads the TLS certificate and key files on each
// SIGHUP until ctx ends (a renewed certificate without a restart); a pair
// that does not load is logged and the previous one served on.
func reloadTLSOnHangup(ctx context.Context, srv *server.Server, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := srv.ReloadTLS(); err != nil {
					log.Error("TLS certificate not reloaded: still serving the previous one", "err", err)
				} else {
					log.Info("TLS certificate reloaded")
				}
			}
		}
	}()
}

// newLogger is the server's logger in the format --log-format names.
func newLogger(format string, w io.Writer, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// open opens the database for a one-shot command, logging warnings only.
func open(ctx context.Context, o *options) (*server.Server, error) {
	cfg := o.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return server.New(ctx, cfg)
}

func adminToken(ctx context.Context, o *options, _ []string, stdout io.Writer) error {
	// Quiet: stdout carries only the token so scripts can capture it.
	srv, err := open(ctx, o)
	if err != nil {
		return err
	}
	defer srv.Close()
	token, err := srv.DB().BootstrapAdmin(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func recount(ctx context.Context, o *options, _ []string, stdout io.Writer) error {
	srv, err := open(ctx, o)
	if err != nil {
		return err
	}
	defer srv.Close()
	ms, err := srv.DB().Recount(ctx, o.fix)
	if err != nil {
		return err
	}
	for _, m := range ms {
		fmt.Fprintln(stdout, mismatchLine(m))
	}
	switch {
	case len(ms) == 0:
		fmt.Fprintln(stdout, "kept counts equal a full recount")
	case o.fix:
		fmt.Fprintf(stdout, "%d count(s) differed and were rewritten from the recount\n", len(ms))
	default:
		return fmt.Errorf("%d kept count(s) differ from a full recount (run recount --fix)", len(ms))
	}
	return nil
}

// backup copies the database with store.Backup, without opening it as a
// server would (no migration, no framework loading: nothing is written to
// the database being copied).
func backup(ctx context.Context, o *options, _ []string, stdout io.Writer) error {
	if o.backupTo == "" {
		return errors.New("backup: --to FILE is required")
	}
	res, err := store.Backup(ctx, o.cfg.DBPath, o.backupTo, o.force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %d pages, %d bytes, integrity check ok\n", o.cfg.DBPath, o.backupTo, res.Pages, res.Bytes)
	return nil
}

func devCert(_ context.Context, _ *options, args []string, stdout io.Writer) error {
	dir, hosts := "tls", []string(nil)
	if len(args) > 0 {
		dir, hosts = args[0], args[1:]
	}
	certFile, keyFile, err := server.WriteDevCert(dir, hosts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s (self-signed, for trying TLS only)\n", certFile, keyFile)
	fmt.Fprintf(stdout, "serve:  fieldworkd --tls-cert %s --tls-key %s\nclient: fieldwork login --server HOST:PORT --token TOKEN --ca %s\n", certFile, keyFile, certFile)
	return nil
}

// mismatchLine names one kept count that differs from the recount. An
// attribute value is case data, quoted (%q escapes control characters, so
// nothing reaches the terminal raw).
func mismatchLine(m store.Mismatch) string {
	var what string
	switch {
	case m.Unreadable:
		return fmt.Sprintf("inspection %s counts by %s %q: unreadable, each is rewritten from the recount by --fix", m.InspectionID, m.Attribute, m.AttributeValue)
	case m.Attribute == "":
		what = fmt.Sprintf("question %s value %s", m.QuestionID, m.Value)
	case m.QuestionID == "":
		what = fmt.Sprintf("cases with %s %q", m.Attribute, m.AttributeValue)
	default:
		what = fmt.Sprintf("%s %q question %s value %s", m.Attribute, m.AttributeValue, m.QuestionID, m.Value)
	}
	return fmt.Sprintf("inspection %s %s: kept %d, counted %d", m.InspectionID, what, m.Kept, m.Counted)
}
