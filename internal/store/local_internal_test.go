package store

import (
	"path/filepath"
	"strings"
	"testing"
)

// settleAppliedSQL must read the batch and seek each op's answer by key: a
// plan that scans the answers table costs the whole store per batch.
func TestSettleAppliedPlan(t *testing.T) {
	l, err := OpenLocal(t.Context(), filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.conn.W.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+settleAppliedSQL, `{"1":1}`, "u", "t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "SCAN answers") || strings.Contains(text, "SCAN o\n") && !strings.Contains(text, "SEARCH answers USING") ||
		!strings.Contains(text, "SEARCH o USING INTEGER PRIMARY KEY") {
		t.Errorf("plan:\n%s\nwant the batch outermost, the outbox and the answers each sought by key", text)
	}
}
