package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// tableCounts counts the rows of every table of the database file, read
// over a connection of its own.
func tableCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) < 10 {
		t.Fatalf("only %d tables: %v", len(names), names)
	}
	counts := map[string]int{}
	for _, n := range names {
		var c int
		if err := raw.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

// snapshot is what a check must leave as it found: every table's row count
// and the pull log's last seq.
type snapshot struct {
	counts map[string]int
	seq    int64
}

func snap(t *testing.T, db *store.DB, path string) snapshot {
	t.Helper()
	seq, err := db.Seq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{tableCounts(t, path), seq}
}

func (s snapshot) same(o snapshot) bool { return s.seq == o.seq && maps(s.counts, o.counts) }

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func problems(err error) []framework.RowProblem {
	if e := framework.RowProblemsOf(err); e != nil {
		return e.Problems
	}
	return nil
}

// Each import's check-only call runs the import's own checks: on bad rows
// it returns the very problems the import refuses them with; on good rows
// it returns nil and, like on bad ones, writes nothing — no row in any
// table, no audit entry, no pull change — where the import then writes.
func TestCheckOnly_SameProblemsAsTheImportAndWritesNothing(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpenPath(t)
	id := writtenTeam(t, db)
	lead := framework.Actor{User: "lead.l", Device: "dev-l"}

	type imp struct {
		name        string
		check       func() error
		importIt    func() error
		checkGood   func() error
		importGood  func() error
		wantProblem []string // each at its line
	}
	answers := func(csv string) []framework.AnswerRow {
		rows, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\n" + csv))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	cases := func(csv string) []framework.CaseRow {
		rows, err := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" + csv))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	badAnswers := answers("T-1,2.1.1,yes,ok\nT-1,2.1.1a,maybe,\nT-9,2.1.1,no,\nT-2,9.9.9,yes,\n")
	goodAnswers := answers("T-1,2.1.1,yes,ok\nT-1,2.1.1a,no,\n")
	badCases := cases("T-3,community,male,26-39,white,medium,none,Test,false,insp.c\nT-4,parole,male,26-39,white,medium,none,Test,false,insp.c\nT-5,community,male,26-39,white,medium,none,Test,false,bad name\n")
	goodCases := cases("T-3,community,male,26-39,white,medium,none,Test,false,insp.c\n")
	badJudgements := []framework.JudgementRow{{Line: 2, StandardID: "P1.1", Rating: "Good"}, {Line: 3, StandardID: "P9.9", Rating: "Good"}, {Line: 4, StandardID: "P1.2", Rating: "Splendid"}}
	goodJudgements := []framework.JudgementRow{{Line: 2, StandardID: "P1.1", Rating: "Good", Rationale: "seen"}}
	badFindings := []framework.FindingRow{{Line: 2, Kind: framework.WrittenSummary, Text: "ok"}, {Line: 3, Kind: framework.WrittenStrength, StandardID: "9.9", Text: "x"},
		{Line: 4, Kind: framework.WrittenSummary, Text: "again"}}
	goodFindings := []framework.FindingRow{{Line: 2, Kind: framework.WrittenSummary, Text: "Inadequate."}}
	for _, c := range []imp{
		{"answers",
			func() error { return db.CheckAnswers(ctx, id, badAnswers) },
			func() error { _, _, err := db.ImportAnswers(ctx, admin, id, badAnswers); return err },
			func() error { return db.CheckAnswers(ctx, id, goodAnswers) },
			func() error { _, _, err := db.ImportAnswers(ctx, admin, id, goodAnswers); return err },
			[]string{"line 3: case T-1 question 2.1.1a", "line 4: case T-9 is not in this inspection", "line 5: case T-2 question 9.9.9: unknown question"}},
		{"cases",
			func() error { return db.CheckCases(ctx, id, badCases) },
			func() error { _, _, err := db.ImportCases(ctx, admin, id, badCases); return err },
			func() error { return db.CheckCases(ctx, id, goodCases) },
			func() error { _, _, err := db.ImportCases(ctx, admin, id, goodCases); return err },
			[]string{"line 3: case T-4: ", "line 4: case T-5: inspector: "}},
		{"judgements",
			func() error { return db.CheckJudgements(ctx, id, badJudgements) },
			func() error { return db.RecordJudgements(ctx, admin, id, badJudgements) },
			func() error { return db.CheckJudgements(ctx, id, goodJudgements) },
			func() error { return db.RecordJudgements(ctx, admin, id, goodJudgements) },
			[]string{"line 3: ", "line 4: "}},
		{"findings",
			func() error { return db.CheckFindings(ctx, lead, id, badFindings) },
			func() error { _, _, err := db.ImportFindings(ctx, lead, id, badFindings); return err },
			func() error { return db.CheckFindings(ctx, lead, id, goodFindings) },
			func() error { _, _, err := db.ImportFindings(ctx, lead, id, goodFindings); return err },
			[]string{"line 3: ", "line 4: a second summary row"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snap(t, db, path)
			checkErr := c.check()
			if !before.same(snap(t, db, path)) {
				t.Fatal("the check of a bad file wrote")
			}
			got := problems(checkErr)
			var texts []string
			for _, p := range got {
				texts = append(texts, p.String())
			}
			if len(texts) != len(c.wantProblem) {
				t.Fatalf("check: %v\nwant %d problems", checkErr, len(c.wantProblem))
			}
			for i, w := range c.wantProblem {
				if !strings.HasPrefix(texts[i], w) {
					t.Errorf("problem %d = %q, want it to start %q", i, texts[i], w)
				}
			}
			importErr := c.importIt()
			if !slices.Equal(problems(importErr), got) {
				t.Errorf("check's problems:\n%v\nimport's:\n%v", checkErr, importErr)
			}
			if !strings.HasSuffix(importErr.Error(), checkErr.Error()) {
				t.Errorf("check's error %q is not the import's %q", checkErr, importErr)
			}

			before = snap(t, db, path)
			if err := c.checkGood(); err != nil {
				t.Fatalf("check of good rows: %v", err)
			}
			if !before.same(snap(t, db, path)) {
				t.Fatal("the check of a good file wrote")
			}
			if err := c.importGood(); err != nil {
				t.Fatalf("import of good rows: %v", err)
			}
			after := snap(t, db, path)
			if before.same(after) || after.counts["audit"] == before.counts["audit"] {
				t.Errorf("the import of good rows wrote nothing, or audited nothing: %+v → %+v", before, after)
			}
		})
	}
}

// A check refuses what the import refuses whatever the rows: the
// inspection locked, a caller who may not write findings, an inspection
// that does not exist; none of them with a row's problem.
func TestCheckOnly_RefusedWhateverTheRows(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := writtenTeam(t, db)
	rows := []framework.AnswerRow{{Line: 2, CaseRef: "T-1", QuestionID: "2.1.1", Value: "maybe"}}
	if err := db.CheckAnswers(ctx, "nope", rows); framework.ErrorCode(err) != framework.CodeNotFound || framework.RowProblemsOf(err) != nil {
		t.Errorf("unknown inspection: %v", err)
	}
	findings := []framework.FindingRow{{Line: 2, Kind: framework.WrittenStrength, StandardID: "9.9", Text: "x"}}
	if err := db.CheckFindings(ctx, framework.Actor{User: "insp.a"}, id, findings); framework.ErrorCode(err) != framework.CodePermission || framework.RowProblemsOf(err) != nil {
		t.Errorf("an inspector's check of findings: %v", err)
	}
	lock(t, db, id)
	for name, err := range map[string]error{
		"answers":    db.CheckAnswers(ctx, id, rows),
		"cases":      db.CheckCases(ctx, id, []framework.CaseRow{{Line: 2, Case: framework.Case{Ref: "T-9", Inspector: "insp.a"}}}),
		"judgements": db.CheckJudgements(ctx, id, []framework.JudgementRow{{Line: 2, StandardID: "P1.1", Rating: "Splendid"}}),
	} {
		if framework.ErrorCode(err) != framework.CodePrecondition || framework.RowProblemsOf(err) != nil {
			t.Errorf("%s on a locked inspection: %v", name, err)
		}
	}
}

func lock(t *testing.T, db *store.DB, id string) {
	t.Helper()
	if _, err := db.SetInspectionStatus(context.Background(), adminUser(), "dev", id, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
}
