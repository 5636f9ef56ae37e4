package syncsim_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

func (tr *trial) change(f func(v *vis)) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	last := tr.states[len(tr.states)-1]
	v := vis{assign: map[string]string{}, role: map[string]framework.Role{}}
	for k, x := range last.assign {
		v.assign[k] = x
	}
	for k, x := range last.role {
		v.role[k] = x
	}
	f(&v)
	tr.states = append(tr.states, v)
	tr.moving = true
}

// changed marks the change written: streams starting from now see it.
func (tr *trial) changed() {
	tr.mu.Lock()
	tr.moving = false
	tr.mu.Unlock()
}

func (tr *trial) now() vis {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.states[len(tr.states)-1]
}

// probe sends, from a device, ops at cases its user may not see (another
// inspector's, one that does not exist; any case once off the team): each
// must be refused with nothing of the case in the ack.
func (tr *trial) probe(ctx context.Context) {
	v := tr.now()
	d := tr.pick()
	var refs []string
	for _, c := range append(tr.cases, "C-99") {
		if !framework.CanSeeCase(v.role[d.User], v.assign[c] == d.User) {
			refs = append(refs, c)
		}
	}
	if len(refs) == 0 {
		return // a lead, or the QA on the team: sees every case
	}
	ref := refs[tr.rng.IntN(len(refs))]
	op := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: tr.insp, CaseRef: ref, QuestionId: tr.qs[tr.rng.IntN(len(tr.qs))],
		Value: "yes", Note: "probe", BaseRevision: tr.rng.Int64N(3), DeviceId: "probe", DeviceSeq: 1}
	before := tr.serverState()
	acks, err := push(ctx, d, []*fieldworkv1.Op{op})
	if err != nil {
		tr.t.Fatalf("probe push: %v", err)
	}
	tr.tot.probes++
	if len(acks) != 1 {
		tr.t.Fatalf("probe: %d acks", len(acks))
	}
	a := acks[0]
	var bad []string
	if a.Result != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.Code) != codes.PermissionDenied {
		bad = append(bad, fmt.Sprintf("result %v code %d", a.Result, a.Code))
	}
	if a.Current != nil || a.Conflict != nil || a.Revision != 0 {
		bad = append(bad, "carries the case's answer, conflict or revision")
	}
	for _, u := range []string{tr.a, tr.b, tr.lead, tr.qa} {
		if u != d.User && strings.Contains(a.Reason, u) {
			bad = append(bad, "names "+u)
		}
	}
	if strings.Contains(a.Reason, "secret") || strings.Contains(a.Reason, string(framework.CaseSubmitted)) {
		bad = append(bad, "reason tells a note or the case status")
	}
	if len(bad) > 0 {
		tr.leak(fmt.Sprintf("probe by %s at %s: %s (ack %v)", d.User, ref, strings.Join(bad, "; "), a))
	}
	if after := tr.serverState(); after != before {
		tr.t.Errorf("probe by %s at %s changed the server", d.User, ref)
	}
}

func (tr *trial) leak(s string) {
	tr.mu.Lock()
	tr.leaks = append(tr.leaks, s)
	tr.mu.Unlock()
}

// watch is a client stream interceptor that checks every ack and pull page
// the device receives: each answer or conflict in it must be of a case the
// user could see at some moment between the stream's start and the
// message's arrival (a reassignment racing the stream may show either side).
func (tr *trial) watch(user string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		tr.mu.Lock()
		from := len(tr.states) - 1
		if tr.moving {
			from--
		}
		tr.mu.Unlock()
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return cs, err
		}
		return &watched{ClientStream: cs, tr: tr, user: user, from: from}, nil
	}
}

type watched struct {
	grpc.ClientStream
	tr   *trial
	user string
	from int
}

func (s *watched) RecvMsg(m any) error {
	if err := s.ClientStream.RecvMsg(m); err != nil {
		return err
	}
	tr := s.tr
	tr.mu.Lock()
	defer tr.mu.Unlock()
	states := tr.states[s.from:]
	seeCase := func(what, insp, ref string) {
		for _, v := range states {
			if insp == tr.insp && framework.CanSeeCase(v.role[s.user], v.assign[ref] == s.user) {
				return
			}
		}
		tr.leaks = append(tr.leaks, fmt.Sprintf("%s of %s %s reached %s, who could not see it", what, insp, ref, s.user))
	}
	onTeam := func(what, insp string) {
		for _, v := range states {
			if insp == tr.insp && v.role[s.user] != "" {
				return
			}
		}
		tr.leaks = append(tr.leaks, fmt.Sprintf("%s of inspection %s reached %s, who is not on its team", what, insp, s.user))
	}
	switch r := m.(type) {
	case *fieldworkv1.PushResponse:
		for _, a := range r.Acks {
			if c := a.Current; c != nil {
				seeCase("an ack's answer", c.InspectionId, c.CaseRef)
			}
			if c := a.Conflict; c != nil {
				seeCase("an ack's conflict", c.InspectionId, c.CaseRef)
			}
		}
	case *fieldworkv1.PullResponse:
		for _, ch := range r.Changes {
			switch {
			case ch.GetAnswer() != nil:
				seeCase("a pulled answer", ch.GetAnswer().InspectionId, ch.GetAnswer().CaseRef)
			case ch.GetConflict() != nil:
				seeCase("a pulled conflict", ch.GetConflict().InspectionId, ch.GetConflict().CaseRef)
			case ch.GetCase() != nil:
				seeCase("a pulled case", ch.GetCase().InspectionId, ch.GetCase().CaseRef)
			case ch.GetInspection() != nil:
				onTeam("the inspection", ch.GetInspection().Id)
			case ch.GetJudgement() != nil:
				onTeam("a judgement", ch.GetJudgement().InspectionId)
			}
		}
	}
	return nil
}

// finalChecks: refused ops are kept on their author's device (then not
// counted as lost), CheckInspection, and what each device holds.
func (tr *trial) finalChecks() {
	t, ctx := tr.t, tr.t.Context()
	kept := map[string]map[string]string{} // user → op_id → value refused and kept
	for _, d := range tr.devs {
		rej, err := d.Local.AllRejections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kept[d.User] == nil {
			kept[d.User] = map[string]string{}
		}
		for _, r := range rej {
			kept[d.User][r.OpID] = r.Value
		}
	}
	var active []*syncsim.Device
	for _, d := range tr.devs {
		if !d.active {
			continue
		}
		var ops []framework.Op
		for _, op := range d.Ops {
			var result int
			var reason string
			err := tr.db.QueryRow(`SELECT result, reason FROM op_records WHERE op_id = ?`, op.ID).Scan(&result, &reason)
			if err == nil && framework.OpResult(result) == framework.OpRejected && kept[d.User][op.ID] == op.Value &&
				(strings.Contains(reason, "not one of your cases") || strings.Contains(reason, "not on the team")) {
				tr.tot.refused++ // the case moved or the user left the team: refused, kept in front of its author
				continue
			}
			if errors.Is(err, sql.ErrNoRows) && kept[d.User][op.ID] == op.Value {
				// Refused to someone off the team, which the server does not
				// record (docs/sync.md): kept in front of its author.
				tr.tot.refused++
				continue
			}
			ops = append(ops, op)
		}
		d.Ops = ops
		active = append(active, d.Device)
	}
	r := syncsim.CheckInspection(t, tr.w, tr.insp, active)
	tr.tot.trials++
	tr.tot.ops += r.Ops
	tr.tot.lost += r.Lost
	tr.tot.duplicated += r.Duplicated
	tr.tot.unconverged += r.Unconverged

	// What each device holds, against the server's final team and assignments.
	assigned := map[string]string{}
	rows, err := tr.db.Query(`SELECT case_ref, inspector FROM cases WHERE inspection_id = ?`, tr.insp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref, insp string
		rows.Scan(&ref, &insp)
		assigned[ref] = insp
	}
	rows.Close()
	for _, d := range tr.devs {
		if !d.active {
			continue
		}
		role, err := syncsim.ServerRole(tr.db, tr.insp, d.User)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "client.db")+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"cases", "answers", "conflicts"} {
			rows, err := raw.Query(`SELECT inspection_id, case_ref FROM ` + table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var insp, ref string
				rows.Scan(&insp, &ref)
				if insp != tr.insp || !framework.CanSeeCase(role, assigned[ref] == d.User) {
					tr.leak(fmt.Sprintf("device of %s holds %s of %s %s (role %q, case of %s)", d.User, table, insp, ref, role, assigned[ref]))
				}
			}
			rows.Close()
		}
		for _, q := range []string{`SELECT id FROM inspections`, `SELECT inspection_id FROM judgements`} {
			rows, err := raw.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var insp string
				rows.Scan(&insp)
				if insp != tr.insp || role == "" {
					tr.leak(fmt.Sprintf("device of %s holds %q of inspection %s (role %q)", d.User, q, insp, role))
				}
			}
			rows.Close()
		}
		raw.Close()
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, l := range tr.leaks {
		t.Errorf("leak: %s", l)
	}
	tr.tot.leaked += len(tr.leaks)
}
