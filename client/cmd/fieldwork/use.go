package main

import (
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// use chooses the inspection that day-to-day commands use when none is
// named: fieldwork use ID, fieldwork use (shows it), fieldwork use --clear.
func (a *app) use(args []string) error {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	fs := newFlags("use")
	clear := fs.Bool("clear", false, "forget the chosen inspection")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *clear && id != "" {
		return fmt.Errorf("use: give an inspection id or --clear, not both")
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if id != "" || *clear {
		if err := l.UseInspection(a.ctx, id); err != nil {
			return fmt.Errorf("use: %w", err)
		}
	}
	cur, why, n, err := l.DefaultInspection(a.ctx)
	if err != nil {
		return err
	}
	if cur == "" {
		fmt.Fprintf(a.stdout, "no default inspection (%d on this laptop): commands need --inspection ID, or choose one with fieldwork use ID\n", n)
		return nil
	}
	termsafe.Fprintf(a.stdout, "default inspection: %s (%s)\n", cur, why)
	return nil
}

// inspection is a command's inspection: the --inspection it was given,
// else the laptop's default (DefaultInspection), named on stderr so that
// nobody records into an inspection they did not mean.
func (a *app) inspection(given, cmd string) (string, error) {
	if given != "" {
		return given, nil
	}
	l, err := a.openLocal()
	if err != nil {
		return "", err
	}
	id, why, n, err := l.DefaultInspection(a.ctx)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("%s: --inspection is required (%d inspections on this laptop; fieldwork use ID chooses a default)", cmd, n)
	}
	termsafe.Fprintf(a.stderr, "inspection %s (%s)\n", id, why)
	return id, nil
}
