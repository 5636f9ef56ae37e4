package client

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// A conflict's short reference is what a person types to resolve it: the
// shortest start, of 4 to 8 characters, of the random tail of its id (the
// last group of the UUID) that no other open conflict on this laptop
// shares. The tail, not the id's start: conflict ids are UUIDv7, whose
// first characters are the time, so conflicts made in the same minute
// share their first eight.
const (
	minRefLen = 4
	maxRefLen = 8
)

// refTail is the part of an id short references are taken from.
func refTail(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 && i+1 < len(id) {
		return strings.ToLower(id[i+1:])
	}
	return strings.ToLower(id)
}

// ConflictRefs gives each conflict of cs its short reference among cs (the
// open conflicts): the whole id in the rare case no 8 characters tell it
// from another.
func ConflictRefs(cs []framework.Conflict) map[string]string {
	refs := make(map[string]string, len(cs))
	for _, c := range cs {
		tail := refTail(c.ID)
		refs[c.ID] = c.ID
		for n := minRefLen; n <= min(maxRefLen, len(tail)); n++ {
			p := tail[:n]
			if !slices.ContainsFunc(cs, func(o framework.Conflict) bool { return o.ID != c.ID && strings.HasPrefix(refTail(o.ID), p) }) {
				refs[c.ID] = p
				break
			}
		}
	}
	return refs
}

// ConflictRefs is the short reference of every open conflict on this
// laptop, by id: unique among all of them, in every inspection, as
// FindConflict looks among all of them, whichever few are listed.
func (o *Offline) ConflictRefs(ctx context.Context) (map[string]string, error) {
	open, err := o.AllConflicts(ctx, "", false)
	if err != nil {
		return nil, err
	}
	return ConflictRefs(open), nil
}

// FindConflict returns the open conflict ref names: its whole id, the start
// (4 characters or more) of its short reference's tail, or the start (8 or
// more) of its id. A reference two conflicts match is refused listing
// both, so a resolution never lands on the wrong one.
//
// Second-marking conflicts are looked up with the answers' (references are
// unique across both, as fieldwork conflicts lists them together).
func (o *Offline) FindConflict(ctx context.Context, ref string) (framework.Conflict, error) {
	all, err := o.AllConflicts(ctx, "", true)
	if err != nil {
		return framework.Conflict{}, err
	}
	for _, c := range all {
		if c.ID == ref {
			return c, nil // the whole id: resolved or not, Resolve says which
		}
	}
	ref = strings.ToLower(strings.TrimSpace(ref))
	if len(ref) < minRefLen {
		return framework.Conflict{}, framework.Errorf(framework.CodeInvalid,
			"conflict reference %q is too short: give the %d to %d characters fieldwork conflicts shows in REF, or the whole id", ref, minRefLen, maxRefLen)
	}
	// Among the conflicts fieldwork conflicts lists open and gives
	// references among (one with its resolution queued here is not): a
	// short reference first; the start of an id only when no short
	// reference matches.
	open, err := o.AllConflicts(ctx, "", false)
	if err != nil {
		return framework.Conflict{}, err
	}
	var found, byStart []framework.Conflict
	for _, c := range open {
		switch {
		case strings.HasPrefix(refTail(c.ID), ref):
			found = append(found, c)
		case len(ref) >= maxRefLen && strings.HasPrefix(strings.ToLower(c.ID), ref):
			byStart = append(byStart, c)
		}
	}
	if len(found) == 0 {
		found = byStart
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return framework.Conflict{}, framework.Errorf(framework.CodeNotFound,
			"no open conflict on this laptop has the reference %q (fieldwork conflicts lists them; run fieldwork sync to fetch new ones)", ref)
	}
	refs := ConflictRefs(open)
	var list []string
	for _, c := range found {
		list = append(list, fmt.Sprintf("%s (case %s question %s)", refs[c.ID], c.CaseRef, c.QuestionID))
	}
	return framework.Conflict{}, framework.Errorf(framework.CodeInvalid,
		"conflict reference %q matches %d open conflicts: %s; give one of these", ref, len(found), strings.Join(list, ", "))
}

// AllConflicts lists the conflicts on answers and on second markings
// together, of one inspection ("" for all), only the open ones unless all:
// the set short references are unique in.
func (o *Offline) AllConflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	cs, err := o.local.Conflicts(ctx, inspectionID, all)
	if err != nil {
		return nil, err
	}
	ms, err := o.local.MarkingConflicts(ctx, inspectionID, all)
	return append(cs, ms...), err
}
