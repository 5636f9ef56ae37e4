package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) teamAdd(args []string) error {
	fs := newFlags("team add")
	insp := fs.String("inspection", "", "inspection `id`")
	user := fs.String("user", "", "user `name`")
	role := fs.String("role", "", "`role`: lead, inspector, qa or analyst")
	if err := parse(fs, args, "inspection", "user", "role"); err != nil {
		return err
	}
	return a.change(func(ctx context.Context, c *client.Client) error {
		if err := c.AddTeamMember(ctx, *insp, *user, framework.Role(*role)); err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%s is %s on %s\n", *user, *role, *insp)
		return nil
	})
}

func (a *app) teamRemove(args []string) error {
	fs := newFlags("team remove")
	insp := fs.String("inspection", "", "inspection `id`")
	user := fs.String("user", "", "user `name`")
	if err := parse(fs, args, "inspection", "user"); err != nil {
		return err
	}
	return a.change(func(ctx context.Context, c *client.Client) error {
		rm, err := c.RemoveTeamMember(ctx, *insp, *user)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%s (%s) is off the team of %s; their devices drop it and its %d case(s) at their next sync\n",
			*user, rm.Role, *insp, rm.WithdrawnCases)
		return nil
	})
}

func (a *app) userCreate(args []string) error {
	fs := newFlags("user create")
	name := fs.String("name", "", "user `name` (no personal names needed: e.g. insp.ahmed)")
	admin := fs.Bool("admin", false, "make the user an administrator")
	if err := parse(fs, args, "name"); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		if err := c.CreateUser(ctx, *name, *admin); err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "created user %s\n", *name)
		return nil
	})
}

func (a *app) tokenIssue(args []string) error {
	fs := newFlags("token issue")
	user := fs.String("user", "", "user `name`")
	ttl := fs.Duration("ttl", 90*24*time.Hour, "token lifetime")
	if err := parse(fs, args, "user"); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		tok, err := c.IssueToken(ctx, *user, *ttl)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, tok.Token)
		termsafe.Fprintf(a.stderr, "token %s for %s, expires %s; it is shown only once\n", tok.ID, *user, tok.ExpiresAt.Format(time.RFC3339))
		return nil
	})
}

func (a *app) tokenRevoke(args []string) error {
	fs := newFlags("token revoke")
	user := fs.String("user", "", "user `name`")
	id := fs.String("token-id", "", "revoke only this token (the id printed when it was issued)")
	if err := parse(fs, args, "user"); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		n, err := c.RevokeToken(ctx, *user, *id)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "revoked %d token(s) of %s\n", n, *user)
		return nil
	})
}
