package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// The upgrade to schema 20 at scale: a database written by the server,
// then put back as schema 19 held it (breakdown_counts as text rows), with
// thousands of rows and orphans. The first Open fails midway (a definition
// it cannot read) and changes nothing; the next repacks the rows as they
// are. Put back again with a recount queued as well, and again with rows
// it cannot repack: the Open recounts. Each time the pooled input is
// exactly as before the downgrade.
func TestMigration0020_AtScaleWithOrphansMalformedAndAFailedFirstOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldwork.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fw, raw, _ := framework.BuiltinByID("probation-pdu-2023")
	if err := db.PutFramework(ctx, fw, raw, true); err != nil {
		t.Fatal(err)
	}
	ids := fillForUpgrade(t, db, fw, 60, 20)
	by := []string{"sentence_type", "sex", "pdu", "mappa"}
	_, want, err := db.PooledSample(ctx, PoolOptions{By: by}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	conn, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(stmts ...string) {
		t.Helper()
		for _, stmt := range stmts {
			if _, err := conn.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	us := func(items ...string) string { return strings.Join(items, "\x1f") }

	// Repacked as they are, at scale: one row wrong by 100 stays so (no
	// recount behind the operator's back), orphans go unread.
	rows := downgradeTo19(t, conn, fw)
	if rows < 2000 {
		t.Fatalf("%d breakdown rows; want thousands", rows)
	}
	exec(`INSERT INTO breakdown_counts VALUES ('gone', 'sex', 'male', '`+us("2.1.1", "yes", "1")+`'), ('gone', 'sex', 'female', 'junk')`,
		`UPDATE breakdown_counts SET counts = counts || char(30) || '`+us("2.1.1", "yes", "100")+`' WHERE inspection_id = '`+ids[5]+`' AND attribute = 'sex' AND attr_value = 'male'`,
		// The first Open cannot read the framework of the inspections.
		`UPDATE frameworks SET definition = '{' WHERE id = '`+fw.ID+`'`)
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "pending repack") {
		t.Fatalf("Open with a definition it cannot read: %v; want the repack to fail", err)
	}
	var textRows, pending, schema int
	conn.QueryRow(`SELECT count(*) FROM breakdown_counts_text`).Scan(&textRows)
	conn.QueryRow(`SELECT count(*) FROM pending_tasks WHERE name = 'repack_breakdowns'`).Scan(&pending)
	conn.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&schema)
	if textRows != rows+2 || pending != 1 || schema != 20 {
		t.Fatalf("after the failed Open: %d text rows (want %d), %d repack pending (want 1), schema %d", textRows, rows+2, pending, schema)
	}
	if _, err := conn.Exec(`UPDATE frameworks SET definition = ? WHERE id = ?`, raw, fw.ID); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := db.Recount(ctx, false)
	if err != nil || len(ms) != 1 || ms[0].InspectionID != ids[5] || ms[0].Kept != ms[0].Counted+100 {
		t.Fatalf("recount after the upgrade = %+v, %v; want the one row wrong by 100", ms, err)
	}
	if _, err := db.Recount(ctx, true); err != nil {
		t.Fatal(err)
	}
	checkUpgraded(t, db, want, by, ids)
	db.Close()

	// A wrong row with a recount queued as well (as 0015 did): the recount
	// runs after the repack, and puts it right.
	downgradeTo19(t, conn, fw)
	exec(`UPDATE breakdown_counts SET counts = counts || char(30) || '`+us("2.1.1", "yes", "100")+`' WHERE inspection_id = '`+ids[5]+`' AND attribute = 'sex' AND attr_value = 'male'`,
		`INSERT INTO pending_tasks (name) VALUES ('recount')`)
	reopen := func() {
		t.Helper()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
			t.Fatalf("recount after the upgrade = %+v, %v; want none", ms, err)
		}
		checkUpgraded(t, db, want, by, ids)
	}
	reopen()

	// Rows it cannot repack (malformed, a question the framework lacks)
	// and no recount queued: the Open recounts.
	downgradeTo19(t, conn, fw)
	exec(`UPDATE breakdown_counts SET counts = '`+us("2.1.1", "yes")+`' WHERE inspection_id = '`+ids[3]+`' AND attribute = 'sex'`,
		`UPDATE breakdown_counts SET counts = counts || char(30) || '`+us("9.9.9", "yes", "7")+`' WHERE inspection_id = '`+ids[7]+`' AND attribute = 'mappa'`)
	reopen()
}

// checkUpgraded holds an upgraded database to the pooled input before the
// downgrade, with nothing pending and nothing left of the text rows.
func checkUpgraded(t *testing.T, db *DB, want framework.Sample, by, ids []string) {
	t.Helper()
	_, got, err := db.PooledSample(context.Background(), PoolOptions{By: by}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	want.GeneratedAt = got.GeneratedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pooled input after the upgrade differs from before")
	}
	var orphans, pending, tables int
	db.conn.Reader.QueryRow(`SELECT count(*) FROM breakdown_counts WHERE inspection_id = 'gone'`).Scan(&orphans)
	db.conn.Reader.QueryRow(`SELECT count(*) FROM pending_tasks`).Scan(&pending)
	db.conn.Reader.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'breakdown_counts_text'`).Scan(&tables)
	if orphans != 0 || pending != 0 || tables != 0 {
		t.Errorf("%d orphan rows, %d tasks pending, %d text tables left; want none", orphans, pending, tables)
	}
}

// fillForUpgrade creates n inspections of fw with cases each of its own
// pdu (a breakdown row each) and random answers.
func fillForUpgrade(t *testing.T, db *DB, fw *framework.Framework, n, cases int) []string {
	ctx := context.Background()
	a := framework.Actor{User: "admin", Device: "test", Admin: true}
	rnd := rand.New(rand.NewPCG(20, 19))
	var ids []string
	for i := range n {
		in, err := db.CreateInspection(ctx, a, fmt.Sprintf("PDU %d", i), fmt.Sprintf("Unit %d", i), fw.ID, fw.Version)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		var cs, as strings.Builder
		cs.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
		for c := range cases {
			attrs := map[string]string{"pdu": fmt.Sprintf("P%d-%d", i, c)}
			fmt.Fprintf(&cs, "T-%d", c)
			for _, at := range fw.Attributes {
				if len(at.Values) > 0 {
					attrs[at.Name] = at.Values[rnd.IntN(len(at.Values))]
				}
				cs.WriteString("," + attrs[at.Name])
			}
			cs.WriteString(",insp.a\n")
			for _, q := range fw.Questions() {
				v := []string{"yes", "no", "na"}[rnd.IntN(3)]
				if q.Type == framework.TypeCount {
					v = fmt.Sprint(1 + rnd.IntN(30))
				} else if st, _ := fw.Applies(q, framework.Facts{Attributes: attrs}); st != framework.Applies {
					v = "na"
				}
				if rnd.IntN(4) == 0 {
					fmt.Fprintf(&as, "T-%d,%s,%s,\n", c, q.ID, v)
				}
			}
		}
		crows, err := interchange.ReadCases(strings.NewReader(cs.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ImportCases(ctx, a, in.ID, crows); err != nil {
			t.Fatal(err)
		}
		arows, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\n" + as.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ImportAnswers(ctx, a, in.ID, arows); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// downgradeTo19 puts the kept counts by attribute back as schema 19 held
// them: "question US value US n" items joined by RS, in a text column.
func downgradeTo19(t *testing.T, conn *sql.DB, fw *framework.Framework) int {
	type row struct{ inspection, attr, value, text string }
	rs, err := conn.Query(`SELECT inspection_id, attribute, attr_value, counts FROM breakdown_counts`)
	if err != nil {
		t.Fatal(err)
	}
	var text []row
	for rs.Next() {
		var r row
		var packed []byte
		if err := rs.Scan(&r.inspection, &r.attr, &r.value, &packed); err != nil {
			t.Fatal(err)
		}
		var b breakdownRow
		if _, err := unpackInto(&b, packed, len(fw.Questions())); err != nil {
			t.Fatal(err)
		}
		var items []string
		b.each(fw, func(q, v string, n int) { items = append(items, fmt.Sprintf("%s\x1f%s\x1f%d", q, v, n)) })
		sort.Strings(items)
		r.text = strings.Join(items, "\x1e")
		text = append(text, r)
	}
	rs.Close()
	for _, stmt := range []string{
		`DROP TABLE breakdown_counts`,
		`CREATE TABLE breakdown_counts (inspection_id TEXT NOT NULL, attribute TEXT NOT NULL, attr_value TEXT NOT NULL, counts TEXT NOT NULL,
			PRIMARY KEY (inspection_id, attribute, attr_value)) WITHOUT ROWID`,
		`DELETE FROM schema_migrations WHERE version = 20`,
		`DELETE FROM pending_tasks`,
	} {
		if _, err := conn.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, r := range text {
		if _, err := conn.Exec(`INSERT INTO breakdown_counts VALUES (?, ?, ?, ?)`, r.inspection, r.attr, r.value, r.text); err != nil {
			t.Fatal(err)
		}
	}
	return len(text)
}
