package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// purgeKept are the tables that keep rows of a purged inspection, on
// purpose: the inspection itself, its team (who may read the frozen
// report), its audit trail (redacted), its frozen report and the one pull
// change that tells devices. purgeHandled are the tables that hold an
// inspection's rows (by inspection_id or by case_id) and that Purge
// empties of them. A new table with either column is in neither list and
// fails TestPurgeLeavesNoCaseData until its purge is decided.
var (
	purgeKept    = map[string]bool{"inspections": true, "team": true, "audit": true, "frozen_reports": true, "changes": true}
	purgeHandled = map[string]bool{"cases": true, "answers": true, "answer_history": true, "conflicts": true, "ops_applied": true,
		"supersessions": true, "judgements": true, "question_counts": true, "breakdown_counts": true, "attribute_counts": true,
		"written_items": true, "written_history": true, "written_conflicts": true, "samples": true, "purging": true,
		"qa_selections": true, "marking_answers": true, "marking_history": true, "marking_conflicts": true, "moderations": true}
)

// marks are put into every piece of case-level text the test stores, one
// per inspection: after the purge the purged one's is in no table, and in
// no byte of the database file or its log; the kept one's is still there.
var marks = map[bool]string{true: "GONExSECRET", false: "KEPTxSECRET"}

func TestPurgeLeavesNoCaseData(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	gone, kept := mustInspection(t, db), mustInspection(t, db)
	inspA := framework.User{Name: "insp.a"}
	lead := framework.User{Name: "lead.l"}
	for _, id := range []string{gone, kept} {
		mustCases(t, db, id)
		if err := db.AddTeamMember(ctx, admin, id, "lead.l", framework.RoleLead); err != nil {
			t.Fatal(err)
		}
		secret := marks[id == gone]
		// An answer written three times (earlier versions freed in place),
		// a conflict, a refused op, a judgement and a written item.
		for i, v := range []string{"yes", "no", "yes"} {
			o := op(id, "T-1", "2.1.1", v, int64(i))
			o.Note, o.DeviceSeq = secret+" note "+v, int64(i+1)
			mustApply(t, db, inspA, o)
		}
		other := op(id, "T-1", "2.1.1", "no", 1)
		other.Note, other.DeviceID, other.DeviceSeq = secret+" the lead's view", "dev-lead", 1
		if acks := mustApply(t, db, lead, other); acks[0].Result != framework.OpConflict {
			t.Fatalf("want a conflict, got %+v", acks[0])
		}
		refused := op(id, "T-2", "2.1.1", "yes", 0) // T-2 is insp.b's
		refused.Note, refused.DeviceSeq = secret+" refused", 4
		if acks := mustApply(t, db, inspA, refused); acks[0].Result != framework.OpRejected {
			t.Fatalf("want a refusal, got %+v", acks[0])
		}
		mustApply(t, db, lead, wop(id, newItem(), framework.WrittenStrength, "P1.1", secret+" strength", 0, "dev-lead"))
		// A second marking of T-1 by QA, its note secret too.
		if err := db.AddTeamMember(ctx, admin, id, "qa.q", framework.RoleQA); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SelectForQA(ctx, framework.Actor{User: "lead.l"}, id, "qa.q", []string{"T-1"}); err != nil {
			t.Fatal(err)
		}
		for i, v := range []string{"no", "yes"} {
			m := op(id, "T-1", "2.1.1", v, int64(i))
			m.Note, m.DeviceID, m.DeviceSeq, m.Marking = secret+" second marking "+v, "dev-qa", int64(i+1), &framework.MarkingOp{}
			if acks := mustApply(t, db, framework.User{Name: "qa.q"}, m); acks[0].Result != framework.OpApplied {
				t.Fatalf("second marking: %+v", acks[0])
			}
		}
		if err := db.RecordJudgements(ctx, admin, id, []framework.JudgementRow{{Line: 2, StandardID: "P1.1", Rating: "Good", Rationale: secret + " rationale"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Purge(ctx, admin, gone, []byte("frozen"), 1<<40); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Fatalf("purge of an unpublished inspection: %v, want refused as a precondition", err)
	}
	if _, err := db.SetInspectionStatus(ctx, adminUser(), "test", gone, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
	seq, err := db.Seq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge(ctx, admin, gone, []byte("frozen"), seq-1); framework.ErrorCode(err) != framework.CodeConflict {
		t.Fatalf("purge with a report older than the last change: %v, want a conflict", err)
	}
	removed, err := db.Purge(ctx, admin, gone, []byte("frozen report bytes"), seq)
	if err != nil {
		t.Fatal(err)
	}
	if removed.Cases != 2 || removed.Answers != 1 || removed.AnswerVersions != 3 || removed.Conflicts != 1 || removed.Judgements != 1 || removed.WrittenItems != 1 || removed.Markings != 4 {
		t.Errorf("removed = %+v", removed)
	}
	if _, err := db.Purge(ctx, admin, gone, []byte("again"), seq+100); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("purging twice: %v, want refused", err)
	}
	// A laptop's late edit to the purged inspection is refused, and
	// nothing of it is kept.
	late := op(gone, "T-1", "2.1.1", "no", 3)
	late.Note, late.DeviceSeq = marks[true]+" late", 9
	if acks := mustApply(t, db, inspA, late); acks[0].Result != framework.OpRejected || !strings.Contains(acks[0].Reason, "purged") {
		t.Errorf("a late edit: %+v, want refused as purged", acks[0])
	}
	if _, err := db.SetInspectionStatus(ctx, adminUser(), "test", gone, framework.InspectionModeration, "reopen"); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("unlocking a purged inspection: %v, want refused", err)
	}
	frozen, err := db.FrozenReport(ctx, gone)
	if err != nil || frozen == nil || string(frozen.Report) != "frozen report bytes" || frozen.AsOfSeq != seq {
		t.Errorf("frozen report = %+v, %v", frozen, err)
	}
	if walEmptied, err := db.Vacuum(ctx); err != nil || !walEmptied {
		t.Errorf("vacuum: emptied %v, %v", walEmptied, err)
	}

	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tables := queryStrings(t, raw, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	for _, table := range tables {
		cols := queryStrings(t, raw, `SELECT name FROM pragma_table_info(?)`, table)
		for _, c := range cols {
			var n int
			if err := raw.QueryRow(`SELECT count(*) FROM "` + table + `" WHERE CAST("` + c + `" AS TEXT) LIKE '%` + marks[true] + `%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				t.Errorf("table %s column %s still holds the purged inspection's text in %d row(s)", table, c, n)
			}
		}
		hasInsp, hasCase := contains(cols, "inspection_id"), contains(cols, "case_id")
		if !hasInsp && !hasCase || purgeKept[table] {
			continue
		}
		if !purgeHandled[table] {
			t.Errorf("table %s holds inspection data (inspection_id or case_id) and Purge does not say what becomes of it: add it to purgeSteps (and purgeHandled here) or to purgeKept", table)
			continue
		}
		q := `SELECT count(*) FROM "` + table + `" WHERE inspection_id = ?`
		if !hasInsp { // its cases are gone: no row may name a case that is not there
			q = `SELECT count(*) FROM "` + table + `" WHERE case_id IS NOT NULL AND case_id NOT IN (SELECT id FROM cases) AND ? != ''`
		}
		var n int
		if err := raw.QueryRow(q, gone).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			t.Errorf("table %s keeps %d row(s) of the purged inspection", table, n)
		}
	}
	var changes int
	raw.QueryRow(`SELECT count(*) FROM changes WHERE inspection_id = ? AND kind = 'inspection'`, gone).Scan(&changes)
	if changes != 1 {
		t.Errorf("the purged inspection has %d pull changes, want the one that tells devices", changes)
	}
	// The kept inspection is untouched.
	var keptAnswers int
	raw.QueryRow(`SELECT count(*) FROM answer_history h JOIN cases c ON c.id = h.case_id WHERE c.inspection_id = ?`, kept).Scan(&keptAnswers)
	if keptAnswers != 3 {
		t.Errorf("the other inspection has %d answer versions, want 3", keptAnswers)
	}
	// The audit trail keeps who did what, and not what they wrote.
	var actions, withText, purgeRows, writes int
	raw.QueryRow(`SELECT count(*), count(before) + count(after), sum(action = 'inspection.purge'), sum(action = 'answer.write') FROM audit_trail
		WHERE inspection_id = ? AND user_name != '' AND at != ''`, gone).Scan(&actions, &withText, &purgeRows, &writes)
	if actions < 8 || withText != 2 || purgeRows != 1 || writes != 3 {
		t.Errorf("audit of the purged inspection: %d attributed rows, %d before/after texts (want the purge's 2), %d purge rows, %d answer writes (want 3)", actions, withText, purgeRows, writes)
	}
	var after string
	raw.QueryRow(`SELECT after FROM audit WHERE inspection_id = ? AND action = 'inspection.purge'`, gone).Scan(&after)
	if !strings.Contains(after, `"cases":2`) || !strings.Contains(after, `"answer_versions":3`) {
		t.Errorf("purge audit after = %s, want the counts removed", after)
	}
	raw.Close()
	// Not a byte of the purged text in the file or its log; the kept
	// inspection's is there (so the scan would find it).
	file, _ := os.ReadFile(path)
	wal, _ := os.ReadFile(path + "-wal")
	all := append(file, wal...)
	if n := bytes.Count(all, []byte(marks[true])); n != 0 {
		t.Errorf("the database file and its log hold the purged inspection's text %d times", n)
	}
	if n := bytes.Count(all, []byte(marks[false])); n == 0 {
		t.Errorf("the kept inspection's text is not in the file: the scan proves nothing")
	}
}

func mustApply(t *testing.T, db *store.DB, u framework.User, ops ...framework.Op) []framework.Ack {
	t.Helper()
	acks, err := db.ApplyOps(context.Background(), u, ops)
	if err != nil {
		t.Fatal(err)
	}
	return acks
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
