package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) login(args []string) error {
	fs := newFlags("login")
	var c client.Credentials
	fs.StringVar(&c.Server, "server", "", "server `address` (host:port)")
	fs.StringVar(&c.Token, "token", "", "bearer `token` issued by an administrator; - reads it from stdin (default: $FIELDWORK_TOKEN)")
	fs.StringVar(&c.CAFile, "ca", "", "CA certificate `file` to verify the server")
	fs.BoolVar(&c.TLS, "tls", false, "use TLS with the system's roots")
	fs.BoolVar(&c.Insecure, "insecure", false, "refused off loopback (the token would travel in clear); plaintext to loopback needs no flag")
	if err := parse(fs, args, "server"); err != nil {
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
	a.creds, a.dialled = c, true // explain names this server if it fails
	ctx, cancel := a.rpcCtx()
	defer cancel()
	// No store yet: the login may be refused, and it asks only who the
	// token belongs to.
	me, err := client.New(conn, nil).WhoAmI(ctx)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	c.User = me.Name
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
	if err := parse(newFlags("whoami"), args); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		me, err := c.WhoAmI(ctx)
		if err != nil {
			return err
		}
		role := ""
		if me.Admin {
			role = " (admin)"
		}
		termsafe.Fprintf(a.stdout, "%s%s on %s\n", me.Name, role, a.creds.Server)
		return nil
	})
}
