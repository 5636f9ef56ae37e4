// The fieldworkd command serves the fieldwork gRPC API on an embedded
// SQLite database.
//
//	fieldworkd [--db PATH] [--listen ADDR] [--tls-cert F --tls-key F] [--framework FILE]...
//	fieldworkd --db PATH admin-token
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fieldworkhq/fieldwork/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
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

func run(ctx context.Context, args []string) error {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("fieldworkd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage:
  fieldworkd [flags]                serve the API
  fieldworkd [--db PATH] admin-token  print a new administrator token on stdout
  fieldworkd dev-cert [DIR] [HOST...] write a self-signed cert.pem and key.pem (default DIR: ./tls)
  fieldworkd [--db PATH] recount [--fix] check the kept per-question counts against a full recount

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.DBPath, "db", cfg.DBPath, "SQLite database `file` (created and migrated if missing)")
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "`address` to serve gRPC on")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "TLS private key `file` (PEM)")
	fs.BoolVar(&cfg.AllowInsecure, "insecure", false, "allow plaintext on a non-loopback address")
	httpAddr := fs.String("http", "", "also serve the lead's live view (web) on this `address`, e.g. 127.0.0.1:7080")
	var frameworks listFlag
	fs.Var(&frameworks, "framework", "load a framework `file` (JSON, see docs/frameworks.md); repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.FrameworkFiles = frameworks
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	cmd := fs.Arg(0)
	if cmd == "dev-cert" {
		dir := "tls"
		if fs.NArg() > 1 {
			dir = fs.Arg(1)
		}
		var hosts []string
		if fs.NArg() > 2 {
			hosts = fs.Args()[2:]
		}
		certFile, keyFile, err := server.WriteDevCert(dir, hosts)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s and %s (self-signed, for trying TLS only)\n", certFile, keyFile)
		fmt.Printf("serve:  fieldworkd --tls-cert %s --tls-key %s\nclient: fieldwork login --server HOST:PORT --token TOKEN --ca %s\n", certFile, keyFile, certFile)
		return nil
	}
	switch cmd {
	case "", "serve":
	case "recount":
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	case "admin-token":
		// Quiet: stdout carries only the token so scripts can capture it.
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	default:
		fs.Usage()
		return fmt.Errorf("unknown command %q", cmd)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cmd == "recount" {
		fix := fs.NArg() > 1 && fs.Arg(1) == "--fix"
		ms, err := srv.DB().Recount(ctx, fix)
		if err != nil {
			return err
		}
		for _, m := range ms {
			fmt.Printf("inspection %s question %s value %s: kept %d, counted %d\n", m.InspectionID, m.QuestionID, m.Value, m.Kept, m.Counted)
		}
		switch {
		case len(ms) == 0:
			fmt.Println("kept counts equal a full recount")
		case fix:
			fmt.Printf("%d count(s) differed and were rewritten from the recount\n", len(ms))
		default:
			return fmt.Errorf("%d kept count(s) differ from a full recount (run recount --fix)", len(ms))
		}
		return nil
	}
	if cmd == "admin-token" {
		token, err := srv.DB().BootstrapAdmin(ctx)
		if err != nil {
			return err
		}
		fmt.Println(token)
		return nil
	}
	lis, err := srv.Listen()
	if err != nil {
		return err
	}
	cfg.Logger.Info("fieldworkd serving", "addr", lis.Addr().String(), "db", cfg.DBPath, "tls", cfg.TLSCertFile != "")
	httpErr := make(chan error, 1)
	if *httpAddr != "" {
		hl, err := srv.ListenOn(*httpAddr)
		if err != nil {
			return err
		}
		cfg.Logger.Info("live view serving", "url", "http://"+hl.Addr().String()+"/")
		go func() { httpErr <- srv.ServeWeb(ctx, hl) }()
	} else {
		httpErr <- nil
	}
	if err := srv.Serve(ctx, lis); err != nil {
		return err
	}
	if err := <-httpErr; err != nil {
		return err
	}
	cfg.Logger.Info("fieldworkd stopped")
	return nil
}
