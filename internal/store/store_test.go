package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

var admin = framework.Actor{User: "admin", Device: "test", Admin: true}

func mustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, _ := mustOpenPath(tb)
	return db
}

// mustOpenPath opens a new server database with the built-in frameworks
// and returns it with its file's path.
func mustOpenPath(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "fieldwork.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	fws, raws, err := framework.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	for i, fw := range fws {
		if err := db.PutFramework(context.Background(), fw, raws[i], true); err != nil {
			tb.Fatal(err)
		}
	}
	return db, path
}

// putFramework loads a framework definition and stores it, usable at once.
func putFramework(tb testing.TB, db *store.DB, raw []byte) *framework.Framework {
	tb.Helper()
	fw, err := framework.Load(raw)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.PutFramework(context.Background(), fw, raw, false); err != nil {
		tb.Fatal(err)
	}
	return fw
}

func mustInspection(tb testing.TB, db *store.DB) string {
	tb.Helper()
	in, err := db.CreateInspection(context.Background(), admin, "Test PDU", "Test", "probation-pdu-2023", 0)
	if err != nil {
		tb.Fatal(err)
	}
	return in.ID
}

const casesCSV = `case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector
T-1,community,male,26-39,white,medium,none,Test,false,insp.a
T-2,licence,female,40-49,black,high,2,Test,false,insp.b
`

func mustCases(tb testing.TB, db *store.DB, id string) {
	tb.Helper()
	rows, err := interchange.ReadCases(strings.NewReader(casesCSV))
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := db.ImportCases(context.Background(), admin, id, rows); err != nil {
		tb.Fatal(err)
	}
}

func op(id, ref, q, v string, base int64) framework.Op {
	return framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: id, CaseRef: ref, QuestionID: q, Value: v, BaseRevision: base, DeviceID: "dev-1"}
}

func adminUser() framework.User { return framework.User{Name: "admin", Admin: true} }

func TestOpen_CreatesWALDatabaseAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fw.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	// WAL mode is a property of the file: a plain connection sees it.
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	raw.Close()
	db, err = store.Open(t.Context(), path) // migrations must be idempotent
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db.Close()
}

func TestApplyOps_RevisionsConflictsAndDuplicates(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	u := adminUser()

	first := op(id, "T-1", "2.1.1", "yes", 0)
	acks, err := db.ApplyOps(ctx, u, []framework.Op{first})
	if err != nil {
		t.Fatal(err)
	}
	if acks[0].Result != framework.OpApplied || acks[0].Revision != 1 {
		t.Fatalf("first write ack = %+v, want applied revision 1", acks[0])
	}
	// Re-sending returns the recorded result, flagged duplicate, and changes nothing.
	again, err := db.ApplyOps(ctx, u, []framework.Op{first})
	if err != nil {
		t.Fatal(err)
	}
	if !again[0].Duplicate || again[0].Result != framework.OpApplied || again[0].Revision != 1 {
		t.Fatalf("re-sent ack = %+v, want duplicate applied revision 1", again[0])
	}
	// Another device edits on top of revision 1.
	second := op(id, "T-1", "2.1.1", "no", 1)
	second.DeviceID = "dev-2"
	acks, _ = db.ApplyOps(ctx, u, []framework.Op{second})
	if acks[0].Result != framework.OpApplied || acks[0].Revision != 2 {
		t.Fatalf("second write ack = %+v, want applied revision 2", acks[0])
	}
	// A third device still based on revision 1 with a different value: conflict, server keeps "no".
	stale := op(id, "T-1", "2.1.1", "na", 1)
	stale.DeviceID = "dev-3"
	acks, _ = db.ApplyOps(ctx, u, []framework.Op{stale})
	if acks[0].Result != framework.OpConflict || acks[0].Conflict == nil || acks[0].Conflict.ServerValue != "no" || acks[0].Conflict.ClientValue != "na" {
		t.Fatalf("stale write ack = %+v, want conflict no vs na", acks[0])
	}
	// Stale base, same value as the server: converges silently.
	same := op(id, "T-1", "2.1.1", "no", 1)
	same.DeviceID = "dev-4"
	acks, _ = db.ApplyOps(ctx, u, []framework.Op{same})
	if acks[0].Result != framework.OpApplied || acks[0].Revision != 2 {
		t.Fatalf("converging write ack = %+v, want applied revision 2", acks[0])
	}
	answers, err := db.Answers(ctx, id, "T-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 1 || answers[0].Value != "no" || answers[0].Revision != 2 {
		t.Fatalf("answers = %+v, want one answer no at revision 2", answers)
	}
}

func TestApplyOps_SameDeviceEditsTwiceOffline(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	// Both ops were made offline on revision 0; the second supersedes the first.
	a, b := op(id, "T-1", "2.1.2", "yes", 0), op(id, "T-1", "2.1.2", "no", 0)
	acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if acks[1].Result != framework.OpApplied || acks[1].Revision != 2 {
		t.Fatalf("second own edit ack = %+v, want applied revision 2", acks[1])
	}
}

func TestApplyOps_RejectsInvalidAndKeepsTheRest(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	tests := []struct {
		name       string
		give       framework.Op
		wantCode   framework.Code
		wantReason string
	}{
		{"unknown question", op(id, "T-1", "9.9.9", "yes", 0), framework.CodeInvalid, "9.9.9"},
		{"value not allowed", op(id, "T-1", "2.1.1", "maybe", 0), framework.CodeInvalid, "maybe"},
		{"count on yes/no", op(id, "T-1", "2.1.1", "3", 0), framework.CodeInvalid, "yes, no or na"},
		{"count below minimum", op(id, "T-1", "2.3.S1", "0", 0), framework.CodeInvalid, "minimum 1"},
		{"does not apply", op(id, "T-1", "2.3.3f", "yes", 0), framework.CodeInvalid, "does not apply"},
		{"unknown case", op(id, "NOPE", "2.1.1", "yes", 0), framework.CodeNotFound, "NOPE"},
		{"unknown inspection", op("no-such", "T-1", "2.1.1", "yes", 0), framework.CodeNotFound, "no-such"},
		{"base ahead of server", op(id, "T-1", "2.1.1", "yes", 7), framework.CodeInvalid, "base revision 7"},
	}
	good := op(id, "T-2", "2.3.3f", "yes", 0) // applies: T-2 is MAPPA level 2
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{tt.give})
			if err != nil {
				t.Fatal(err)
			}
			got := acks[0]
			if got.Result != framework.OpRejected || framework.ErrorCode(got.Err) != tt.wantCode || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("ack = %+v (code %q), want rejected %s mentioning %q", got, framework.ErrorCode(got.Err), tt.wantCode, tt.wantReason)
			}
		})
	}
	acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{tests[0].give, good})
	if err != nil {
		t.Fatal(err)
	}
	if acks[1].Result != framework.OpApplied {
		t.Errorf("valid op beside a rejected one: %+v, want applied", acks[1])
	}
	answers, _ := db.Answers(ctx, id, "T-1")
	if len(answers) != 0 {
		t.Errorf("T-1 answers = %+v, want none stored by rejected ops", answers)
	}
}

func TestImportAnswers_AllBadRowsReportedNothingStored(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	csv := "case_ref,question_id,answer,note\nT-1,2.1.1,yes,ok\nT-1,2.1.9,yes,\nT-2,2.1.1,perhaps,\nT-9,2.1.1,no,\n"
	rows, err := interchange.ReadAnswers(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.ImportAnswers(ctx, admin, id, rows)
	if framework.ErrorCode(err) != framework.CodeInvalid {
		t.Fatalf("import error = %v, want invalid", err)
	}
	for _, want := range []string{"line 3", "2.1.9", "line 4", "perhaps", "line 5", "T-9"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %q blames the good line 2", err)
	}
	answers, _ := db.Answers(ctx, id, "T-1")
	if len(answers) != 0 {
		t.Errorf("answers after rejected import = %+v, want none", answers)
	}
}

func TestImportCases_RejectsBadAttributes(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"A-1,community,male,26-39,white,medium,none,X,false,insp.a\n" +
		"A-2,parole,male,26-39,white,medium,none,X,false,insp.a\n" +
		"A-3,community,male,26-39,white,medium,7,X,false,insp.a\n"
	rows, err := interchange.ReadCases(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.ImportCases(ctx, admin, id, rows)
	if framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("import error = %v, want invalid naming lines 3 and 4", err)
	}
	cs, _ := db.Cases(ctx, id, "")
	if len(cs) != 0 {
		t.Errorf("cases after rejected import = %d, want 0", len(cs))
	}
}

func TestChanges_InspectorSeesOnlyAssignedCases(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(id, "T-1", "2.1.1", "yes", 0), op(id, "T-2", "2.1.1", "no", 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		if a.Result != framework.OpApplied {
			t.Fatalf("setup: %+v, want applied", a)
		}
	}

	changes, cursor, more, err := db.Changes(ctx, framework.User{Name: "insp.a"}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if more || cursor == 0 {
		t.Errorf("more = %v cursor = %d, want one page to the end", more, cursor)
	}
	var ownCase, ownAnswer bool
	for _, ch := range changes {
		if ch.Case != nil && ch.Case.Ref != "T-1" || ch.Answer != nil && ch.Answer.CaseRef != "T-1" {
			t.Errorf("insp.a received %+v of a case assigned to someone else", ch)
		}
		ownCase = ownCase || ch.Case != nil && ch.Case.Ref == "T-1"
		ownAnswer = ownAnswer || ch.Answer != nil && ch.Answer.CaseRef == "T-1" && ch.Answer.Value == "yes"
	}
	if !ownCase || !ownAnswer {
		t.Errorf("insp.a received their case T-1: %v, its answer: %v; want both (else \"only T-1\" above proves nothing)", ownCase, ownAnswer)
	}
	changes, _, _, err = db.Changes(ctx, framework.User{Name: "stranger"}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("a user on no team received %d changes, want 0", len(changes))
	}
	// Paging: small pages resume from the cursor and end with more=false.
	var all int
	after := int64(0)
	for i := 0; ; i++ {
		page, next, more, err := db.Changes(ctx, adminUser(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all += len(page)
		after = next
		if !more {
			break
		}
		if i > 100 {
			t.Fatal("paging does not end")
		}
	}
	if all == 0 {
		t.Error("admin paged through no changes")
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	token, err := db.BootstrapAdmin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.Authenticate(ctx, token)
	if err != nil || u.Name != "admin" || !u.Admin {
		t.Fatalf("Authenticate(admin token) = %+v, %v; want admin", u, err)
	}
	if _, err := db.Authenticate(ctx, token+"x"); framework.ErrorCode(err) != framework.CodeUnauthorized {
		t.Errorf("Authenticate(wrong token) error = %v, want unauthenticated", err)
	}
}

func TestPutFramework_ImmutableOnceUsed(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	mustInspection(t, db)
	fw, _, err := db.Framework(ctx, "probation-pdu-2023", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, raw, _ := db.Framework(ctx, "probation-pdu-2023", 1)
	changed := []byte(strings.Replace(string(raw), "Leadership", "Leading", 1))
	fw2, err := framework.Load(changed)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutFramework(ctx, fw2, changed, false); framework.ErrorCode(err) != framework.CodeExists {
		t.Errorf("changing a used framework: error = %v, want already-exists", err)
	}
	if err := db.PutFramework(ctx, fw, raw, true); err != nil {
		t.Errorf("storing the same definition again: %v", err)
	}
}

func TestApplyOps_ReorderedOpsFromOneDeviceKeepTheLatest(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	first, second := op(id, "T-1", "2.1.3", "yes", 0), op(id, "T-1", "2.1.3", "no", 0)
	first.DeviceSeq, second.DeviceSeq = 1, 2
	second.Supersedes = []string{first.ID} // made while first was unsent
	// The later edit arrives first, then the earlier one, then both again.
	for _, batch := range [][]framework.Op{{second}, {first}, {first, second}} {
		if _, err := db.ApplyOps(ctx, adminUser(), batch); err != nil {
			t.Fatal(err)
		}
	}
	answers, _ := db.Answers(ctx, id, "T-1")
	if len(answers) != 1 || answers[0].Value != "no" || answers[0].Revision != 1 {
		t.Fatalf("answers = %+v, want the device's latest edit (no) at revision 1", answers)
	}
}

func TestQuestionCounts_KeptCurrentAndRecounted(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	rows, _ := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nT-1,2.1.1,yes,\nT-2,2.1.1,no,\nT-1,2.1.2,yes,\n"))
	if _, _, err := db.ImportAnswers(ctx, admin, id, rows); err != nil {
		t.Fatal(err)
	}
	// Change one answer and write another through sync.
	if _, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(id, "T-1", "2.1.1", "no", 1), op(id, "T-2", "2.1.2", "na", 0)}); err != nil {
		t.Fatal(err)
	}
	fw, in, err := db.PooledCounts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Counts["2.1.1"]; got["no"] != 2 || got["yes"] != 0 || in.CaseCount != 2 || fw.ID != "probation-pdu-2023" {
		t.Errorf("kept counts for 2.1.1 = %v (cases %d), want no: 2, yes: 0", got, in.CaseCount)
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Fatalf("recount after normal writes = %v, %v; want no mismatch", ms, err)
	}
}

// Two pooled inspections of the same unit keep their cases apart: the unit
// labels that prefix pooled case references are made distinct.
func TestPooledInspectionsOfOneUnitStayApart(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ids := []string{mustInspection(t, db), mustInspection(t, db)} // both unit "Test", same case refs
	for i, id := range ids {
		mustCases(t, db, id)
		v := []string{"yes", "no"}[i]
		if _, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(id, "T-1", "2.1.1", v, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	_, in, err := db.ReportInput(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Units) != 2 || in.Units[0] == in.Units[1] {
		t.Fatalf("units = %q, want two distinct labels", in.Units)
	}
	refs := map[string]bool{}
	for _, c := range in.Cases {
		refs[c.Ref] = true
	}
	answers := map[string]string{}
	for _, a := range in.Answers {
		answers[a.CaseRef] = a.Value
	}
	if len(refs) != 4 || len(answers) != 2 || answers[in.Units[0]+":T-1"] != "yes" || answers[in.Units[1]+":T-1"] != "no" {
		t.Errorf("pooled cases %v and answers %v, want 4 distinct cases and each unit's own T-1 answer", refs, answers)
	}
	_, counted, err := db.PooledCounts(ctx, ids...)
	if err != nil || len(counted.Units) != 2 || counted.Units[0] != in.Units[0] || counted.Units[1] != in.Units[1] {
		t.Errorf("pooled counts units = %q, %v; want %q", counted.Units, err, in.Units)
	}
	if _, _, err := db.PooledCounts(ctx, ids[0], ids[0]); framework.ErrorCode(err) != framework.CodeInvalid {
		t.Errorf("pooling one inspection twice from the counts: %v, want invalid (it would double its counts)", err)
	}
}

// InspectionsByID reads many inspections at once as Inspection reads each:
// the user's role on it (an administrator's "admin" off the team), none for
// an id that does not exist.
func TestInspectionsByID_AsInspectionReadsEach(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	a, b := mustInspection(t, db), mustInspection(t, db)
	if err := db.AddTeamMember(ctx, admin, a, "ana", framework.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	for _, u := range []framework.User{{Name: "ana"}, {Name: "admin", Admin: true}, {Name: "nobody"}} {
		got, err := db.InspectionsByID(ctx, u, []string{b, "missing", a, a})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("%s: %d inspections, want %s and %s only", u.Name, len(got), a, b)
		}
		for _, id := range []string{a, b} {
			want, err := db.Inspection(ctx, u, id)
			if err != nil {
				t.Fatal(err)
			}
			if got[id] != want {
				t.Errorf("%s: %s read at once as %+v, alone as %+v", u.Name, id, got[id], want)
			}
		}
	}
}
