package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func (a *app) ui(args []string) error {
	fs := newFlags("ui")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `address` to serve on (port 0: a free one)")
	noBrowser := fs.Bool("no-browser", false, "do not try to open a browser")
	second := fs.Bool("second", false, "the form of one case's second marking (with --inspection and --case)")
	insp := fs.String("inspection", "", "with --second: inspection `id`")
	ref := fs.String("case", "", "with --second: case `ref`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *second != (*insp != "" && *ref != "") || (!*second && (*insp != "" || *ref != "")) {
		return errors.New("ui: --second takes --inspection ID and --case REF (and they are for --second only)")
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
	ui := client.NewUI(c, user)
	if *second {
		if err := secondFormCase(a, l, user, *insp, *ref); err != nil {
			return fmt.Errorf("ui --second: %w", err)
		}
		ui = client.NewSecondUI(c, user, *insp, *ref)
	}
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

// secondFormCase refuses a second-marking form for a case not selected for
// this user's second marking on this laptop (a submitted marking opens
// read-only).
func secondFormCase(a *app, l *client.Offline, user, inspectionID, caseRef string) error {
	in, err := l.Inspection(a.ctx, inspectionID)
	if err != nil {
		return err
	}
	sels, err := l.Selections(a.ctx, inspectionID)
	if err != nil {
		return err
	}
	for _, s := range sels {
		if s.CaseRef == caseRef && s.QA == user {
			return nil
		}
	}
	if err := framework.CheckMarkingWrite(user, inspectionID, caseRef, in.Status, nil); err != nil {
		return err
	}
	return framework.Errorf(framework.CodeNotFound, "case %q is not selected for your second marking on this laptop (run fieldwork sync)", caseRef)
}
