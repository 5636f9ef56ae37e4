package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestRefusal(t *testing.T) {
	locked := framework.Errorf(framework.CodePrecondition, "case is locked")
	for _, c := range []struct {
		err  error
		want string
	}{
		{locked, "case is locked"},
		{fmt.Errorf("record answer: case T-1: %w", locked), "case is locked"},
		{fmt.Errorf("record answer: %w", errors.New("disk I/O error")), "record answer: disk I/O error"},
	} {
		if got := refusal(c.err); got != c.want {
			t.Errorf("refusal(%q) = %q; want %q", c.err, got, c.want)
		}
	}
}
