package client_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// answerAll records na for every question that applies to a case on this
// laptop, offline.
func answerAll(t *testing.T, off *client.Offline, inspectionID, ref string) int {
	t.Helper()
	ctx := t.Context()
	_, fw, err := off.InspectionFramework(ctx, inspectionID)
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := off.Cases(ctx, inspectionID)
	n := 0
	for _, c := range cases {
		if c.Ref != ref {
			continue
		}
		for _, q := range fw.Applicable(framework.Facts{Attributes: c.Attributes}) {
			if _, err := off.Record(ctx, "insp.a", client.Edit{InspectionID: inspectionID, CaseRef: ref, QuestionID: q.ID, Value: "na"}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func localCase(t *testing.T, off *client.Offline, inspectionID, ref string) framework.Case {
	t.Helper()
	cases, err := off.Cases(t.Context(), inspectionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Ref == ref {
			return c
		}
	}
	t.Fatalf("case %s not on the laptop", ref)
	return framework.Case{}
}

// A case answered and submitted with no server: the submission is checked
// on the laptop (every missing question listed, none cut off), queued in
// the outbox behind the answers, and decided by the server on the next
// sync, in the same push as the answers.
func TestQueueCaseStatus_OfflineSubmitSentOnNextSync(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	ctx := t.Context()
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	offline := client.New(nil, d.Client.Offline()) // no server at all
	_, err := offline.QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, "")
	if framework.ErrorCode(err) != framework.CodePrecondition || !strings.Contains(err.Error(), "65 applicable question(s) unanswered") ||
		!strings.Contains(err.Error(), "2.1.1, ") || !strings.Contains(err.Error(), "M.1") || strings.Contains(err.Error(), "more") {
		t.Fatalf("submitting an unanswered case offline: %v; want refused here with all 65 questions listed", err)
	}
	if n, _ := d.Local.PendingCount(ctx); n != 0 {
		t.Fatalf("a refused submission queued %d op(s)", n)
	}
	answered := answerAll(t, d.Client.Offline(), w.InspectionID, "C-01")
	q, err := offline.QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, "")
	if err != nil || !errors.Is(q.Unsent, client.ErrOffline) || q.Case.Status != framework.CaseSubmitted {
		t.Fatalf("offline submit: %+v, %v; want queued, unsent (offline), the case shown submitted", q, err)
	}
	if n, _ := d.Local.PendingCount(ctx); n != answered+1 {
		t.Errorf("outbox holds %d ops, want %d answers + the submission", n, answered+1)
	}
	// The laptop treats the case as submitted at once: no answer changes under it.
	if _, err := d.Client.Offline().Record(ctx, "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: "2.1.1", Value: "yes"}); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("answer after a queued submit: %v, want refused (case submitted)", err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status == framework.CaseSubmitted {
		t.Fatal("the server has the case submitted before any sync")
	}
	res, err := d.Client.Sync(ctx)
	if err != nil || res.Applied != answered+1 || res.Rejected != 0 {
		t.Fatalf("sync: %+v, %v; want %d applied", res, err, answered+1)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseSubmitted {
		t.Errorf("server case after the sync: %s, want submitted", srv.Status)
	}
	if c := localCase(t, d.Client.Offline(), w.InspectionID, "C-01"); c.Status != framework.CaseSubmitted {
		t.Errorf("laptop case after the sync: %s, want submitted", c.Status)
	}
	if st, _ := d.Client.Offline().QueuedCaseStatus(ctx, w.InspectionID, "C-01"); st != "" {
		t.Errorf("a status op is still queued after the sync: %s", st)
	}
	// Sending the same op again (a lost ack) changes nothing, even after QA
	// returned the case: a re-sent submission never re-submits it.
	qa := framework.User{Name: "qa"}
	if _, err := w.Srv.DB().SetCaseStatus(ctx, qa, "qa-dev", w.InspectionID, "C-01", framework.CaseInProgress, "2.1.1 needs a note"); err != nil {
		t.Fatal(err)
	}
	acks, err := w.Srv.DB().ApplyOps(ctx, framework.User{Name: "insp.a"}, []framework.Op{q.Op})
	if err != nil || len(acks) != 1 || !acks[0].Duplicate || acks[0].Result != framework.OpApplied {
		t.Fatalf("re-sent submission: %+v, %v; want its recorded result, as a duplicate", acks, err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseInProgress {
		t.Errorf("after the re-send the case is %s; want in_progress (returned by QA) still", srv.Status)
	}
}

// The server judges the submission on the case as it holds it: a case
// whose attributes the lead corrected meanwhile (a question now applies)
// is refused on the sync, the refusal kept on the laptop with the missing
// question named, the case shown as it was; recorded again once answered,
// it goes through.
func TestQueueCaseStatus_RefusedOnSyncIsKeptForItsAuthor(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	ctx := t.Context()
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	off := d.Client.Offline()
	answerAll(t, off, w.InspectionID, "C-01")
	op, err := off.QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, "")
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile the lead corrects the case: MAPPA level 2 brings in 2.3.3f.
	rows, err := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"C-01,community,male,26-39,white,medium,2,T,false,insp.a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(ctx, framework.Actor{User: "admin", Admin: true}, w.InspectionID, rows); err != nil {
		t.Fatal(err)
	}
	res, err := d.Client.Sync(ctx)
	if err != nil || res.Rejected != 1 {
		t.Fatalf("sync: %+v, %v; want the submission refused", res, err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status == framework.CaseSubmitted {
		t.Fatal("the server submitted an incomplete case")
	}
	rs, _ := off.Rejections(ctx)
	if len(rs) != 1 || rs[0].OpID != op.ID || rs[0].Kind != "case_status" || rs[0].Value != "submitted" || rs[0].Code != string(framework.CodePrecondition) ||
		!strings.Contains(rs[0].Reason, "1 applicable question(s) unanswered: 2.3.3f") {
		t.Fatalf("refusals on the laptop: %+v; want the submission kept, naming 2.3.3f", rs)
	}
	if c := localCase(t, off, w.InspectionID, "C-01"); c.Status == framework.CaseSubmitted {
		t.Errorf("laptop shows C-01 %s after the refusal; want it as it was", c.Status)
	}
	// The inspector answers it and records the submission again.
	if _, err := off.Record(ctx, "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: "2.3.3f", Value: "yes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := off.RecordAgain(ctx, "insp.a", client.RefusalSelector{OpID: op.ID}); err != nil {
		t.Fatal(err)
	}
	if res, err := d.Client.Sync(ctx); err != nil || res.Rejected != 0 {
		t.Fatalf("sync after recording it again: %+v, %v", res, err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseSubmitted {
		t.Errorf("server case: %s, want submitted", srv.Status)
	}
}

// An op that moves someone else's case, or whose case does not exist, is
// refused in the same words, with nothing of the case in the ack.
func TestStatusOp_OthersCaseRefusedWithNothingShown(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ctx := t.Context()
	mk := func(ref string, seq int64) framework.Op {
		return framework.Op{ID: "0195f3a0-0000-7000-8000-00000000000" + string(rune('0'+seq)), InspectionID: w.InspectionID, CaseRef: ref,
			DeviceID: "dev-a", DeviceSeq: seq, Status: &framework.CaseStatusOp{Status: framework.CaseSubmitted}}
	}
	acks, err := w.Srv.DB().ApplyOps(ctx, framework.User{Name: "insp.a"}, []framework.Op{mk("C-04", 1), mk("NOPE-1", 2), mk("C-01", 3)})
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range []string{"C-04", "NOPE-1"} {
		a := acks[i]
		if a.Result != framework.OpRejected || framework.ErrorCode(a.Err) != framework.CodePermission || a.Case != nil ||
			a.Reason != framework.CaseHiddenError(w.InspectionID, ref).Error() {
			t.Errorf("%s: %+v; want refused as hidden, no case", ref, a)
		}
	}
	// Their own case, incomplete: refused with every missing question; shown their case.
	if a := acks[2]; a.Result != framework.OpRejected || !strings.Contains(a.Reason, "65 applicable question(s) unanswered") || a.Case == nil || a.Case.Status != framework.CaseNotStarted {
		t.Errorf("C-01 incomplete: %+v", a)
	}
}

// A submission queued on one laptop before QA returned the case (submitted
// from the inspector's other laptop meanwhile) must not undo the return
// unseen: it names the status revision it saw, and is refused, kept on the
// laptop, once the case's status changed elsewhere. Recorded again after a
// sync, it goes through.
func TestQueueCaseStatus_StaleSubmitDoesNotUndoAReturn(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ctx := t.Context()
	d1 := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	d2 := w.NewDevice(t, filepath.Join(dir, "b"), "insp.a", w.Addr)
	if _, err := d1.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	answerAll(t, d1.Client.Offline(), w.InspectionID, "C-01")
	if _, err := d1.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// d2, offline, queues a submission; d1 submits, QA returns the case.
	stale, err := d2.Client.Offline().QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d1.Client.QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Srv.DB().SetCaseStatus(ctx, framework.User{Name: "qa"}, "qa-dev", w.InspectionID, "C-01", framework.CaseInProgress, "2.1.1 needs a note"); err != nil {
		t.Fatal(err)
	}
	res, err := d2.Client.Sync(ctx)
	if err != nil || res.Rejected != 1 {
		t.Fatalf("d2's sync: %+v, %v; want its stale submission refused", res, err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseInProgress {
		t.Fatalf("server case after d2's stale submission: %s; want in_progress (QA's return stands)", srv.Status)
	}
	rs, _ := d2.Client.Offline().Rejections(ctx)
	if len(rs) != 1 || rs[0].OpID != stale.ID || !strings.Contains(rs[0].Reason, "its status changed since this device last synced") {
		t.Fatalf("refusals on d2: %+v; want the stale submission kept, saying why", rs)
	}
	if c := localCase(t, d2.Client.Offline(), w.InspectionID, "C-01"); c.Status != framework.CaseInProgress {
		t.Errorf("d2 shows C-01 %s; want in_progress, as the server holds it", c.Status)
	}
	// Seen and decided again: the same submission, recorded again, applies.
	if _, err := d2.Client.Offline().RecordAgain(ctx, "insp.a", client.RefusalSelector{OpID: stale.ID}); err != nil {
		t.Fatal(err)
	}
	if res, err := d2.Client.Sync(ctx); err != nil || res.Rejected != 0 {
		rs, _ := d2.Client.Offline().Rejections(ctx)
		srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01")
		t.Fatalf("sync after recording it again: %+v, %v; refusals %+v; server case %+v; laptop case %+v", res, err, rs, srv, localCase(t, d2.Client.Offline(), w.InspectionID, "C-01"))
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseSubmitted {
		t.Errorf("server case: %s, want submitted", srv.Status)
	}
}
