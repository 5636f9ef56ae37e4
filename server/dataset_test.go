package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/dataset"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
	"github.com/fieldworkhq/fieldwork/server"
)

// exportAll runs ExportDataset as token and returns the header, the cases
// and how many messages carried them.
func exportAll(ctx context.Context, e *testEnv, token string, req *fieldworkv1.ExportDatasetRequest) (framework.DatasetHeader, []framework.DatasetCase, int, error) {
	stream, err := fieldworkv1.NewReportServiceClient(e.conn).ExportDataset(as(ctx, token), req)
	if err != nil {
		return framework.DatasetHeader{}, nil, 0, err
	}
	var h framework.DatasetHeader
	var cases []framework.DatasetCase
	msgs := 0
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return h, cases, msgs, nil
		}
		if err != nil {
			return h, cases, msgs, err
		}
		if resp.GetHeader() != nil {
			h = wire.DatasetHeaderFromProto(resp.GetHeader())
		}
		msgs++
		for _, m := range resp.GetCases() {
			cases = append(cases, wire.DatasetCaseFromProto(m))
		}
	}
}

func (e *testEnv) member(tb testing.TB, insp, user, role string) string {
	tb.Helper()
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).AddTeamMember(as(context.Background(), e.admin),
		&fieldworkv1.AddTeamMemberRequest{InspectionId: insp, User: user, Role: role}); err != nil {
		tb.Fatal(err)
	}
	return e.token(tb, user)
}

func (e *testEnv) record(tb testing.TB, insp, ref, q, value, note string) {
	tb.Helper()
	if _, err := fieldworkv1.NewAnswerServiceClient(e.conn).RecordAnswer(as(context.Background(), e.admin), &fieldworkv1.RecordAnswerRequest{
		InspectionId: insp, CaseRef: ref, QuestionId: q, Value: value, Note: note}); err != nil {
		tb.Fatalf("answer %s %s: %v", ref, q, err)
	}
}

// Analysts, QA and leads export; an inspector, and anyone off the team, is
// refused before anything is sent, with the same words whether the
// inspection exists or not.
func TestExportDataset_AnalystsExportInspectorsMayNot(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // T-1 insp.a, T-2 insp.b
	other := e.inspectionFor(t, "insp.x", "insp.y")
	e.record(t, id, "T-1", "2.1.1", "yes", "")
	analyst := e.member(t, id, "ana.lyst", "analyst")
	h, cases, _, err := exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: id})
	if err != nil || len(cases) != 2 || h.Cases != 2 || h.FrameworkID != "probation-pdu-2023" {
		t.Fatalf("analyst: header %+v, %d cases, %v", h, len(cases), err)
	}
	if cases[0].Ref != "T-1" || len(cases[0].Answers) != 1 || cases[0].Answers[0].Value != "yes" || cases[1].Ref != "T-2" || cases[0].Attributes["mappa"] != "none" {
		t.Errorf("cases = %+v", cases)
	}
	for name, tc := range map[string]struct {
		token string
		req   *fieldworkv1.ExportDatasetRequest
	}{
		"inspector on own inspection":    {e.token(t, "insp.a"), &fieldworkv1.ExportDatasetRequest{InspectionId: id, Notes: true}},
		"analyst on another inspection":  {analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: other}},
		"analyst pooling another in":     {analyst, &fieldworkv1.ExportDatasetRequest{InspectionIds: []string{id, other}}},
		"analyst on a missing one":       {analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: "no-such-inspection"}},
		"analyst naming no inspection":   {analyst, &fieldworkv1.ExportDatasetRequest{}},
		"inspector naming no inspection": {e.token(t, "insp.a"), &fieldworkv1.ExportDatasetRequest{}},
	} {
		h, cases, msgs, err := exportAll(t.Context(), e, tc.token, tc.req)
		want := codes.PermissionDenied
		if len(tc.req.GetInspectionIds()) == 0 && tc.req.GetInspectionId() == "" {
			want = codes.InvalidArgument
		}
		if status.Code(err) != want || msgs != 0 || len(cases) != 0 || h.FrameworkID != "" {
			t.Errorf("%s: %v, %d message(s), %d case(s); want %v and nothing", name, err, msgs, len(cases), want)
		}
		if strings.Contains(status.Convert(err).Message(), "not found") {
			t.Errorf("%s: %q tells whether the inspection exists", name, status.Convert(err).Message())
		}
	}
	// Nothing was audited for the refused ones: only the analyst's export.
	entries, err := e.srv.DB().Audit(t.Context(), id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.Action == "dataset.export" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d dataset.export audit rows on %s, want 1 (the analyst's)", n, id)
	}
}

// An export with notes is audited on every inspection it takes: who, from
// which device, which inspections, that notes were in it; never the notes.
// A hostile note reaches the file neutralised.
func TestExportDataset_NotesAuditedAndNeutralised(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	const hostile = "=cmd|' /C calc'!A0 secret note"
	e.record(t, id, "T-1", "2.1.1", "no", hostile)
	const odd = "nul \x00 rs \x1e us \x1f ls \u2028 \"quoted\" \\ tab\t end"
	e.record(t, id, "T-2", "2.1.1", "yes", odd)
	analyst := e.member(t, id, "ana.lyst", "analyst")
	h, cases, _, err := exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: id, Notes: true, DeviceId: "laptop-7"})
	if err != nil || !h.Notes || cases[0].Answers[0].Note != hostile || cases[1].Answers[0].Note != odd {
		t.Fatalf("export with notes: %+v %+v %v", h, cases, err)
	}
	entries, err := e.srv.DB().Audit(t.Context(), id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []framework.AuditEntry
	for _, en := range entries {
		if en.Action == "dataset.export" {
			got = append(got, en)
		}
	}
	if len(got) != 1 || got[0].User != "ana.lyst" || got[0].Device != "laptop-7" || got[0].At.IsZero() ||
		!strings.Contains(got[0].After, `"notes":true`) || !strings.Contains(got[0].After, id) || strings.Contains(got[0].After, "secret") {
		t.Errorf("audit = %+v", got)
	}
	// Without notes the server sends none.
	_, cases, _, err = exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: id})
	if err != nil || cases[0].Answers[0].Note != "" {
		t.Errorf("export without notes carried %q (%v)", cases[0].Answers[0].Note, err)
	}

	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	next := func() (framework.DatasetCase, error) {
		if len(cases) == 0 {
			return framework.DatasetCase{}, io.EOF
		}
		c := cases[0]
		cases = cases[1:]
		return c, nil
	}
	_, cases, _, _ = exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionId: id, Notes: true})
	if _, err := dataset.Export(dir, fw, h, dataset.Options{Notes: true}, next, nil); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "dataset.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	if got := rows[1][col["2.1.1_note"]]; got != "'"+hostile {
		t.Errorf("hostile note written as %q", got)
	}
}

// A pooled export: every case of each inspection, across pages and
// messages, in order, each with its unit; inspections of different
// frameworks are refused, naming them; an answer that no longer applies
// is sent as stored (the writer marks it).
func TestExportDataset_PooledAcrossPages(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(t.TempDir(), "fieldwork.db")
	cfg.PullPageBytes = 4 << 10 // a few cases per message
	e := newTestServerAt(t, cfg, io.Discard)
	ctx := as(t.Context(), e.admin)
	inspections := fieldworkv1.NewInspectionServiceClient(e.conn)
	var ids []string
	for i, n := range []int{450, 3} { // 450 cases: three store pages
		resp, err := inspections.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: fmt.Sprintf("I%d", i), Unit: "Same unit", FrameworkId: "probation-pdu-2023"})
		if err != nil {
			t.Fatal(err)
		}
		id := resp.GetInspection().GetId()
		var b strings.Builder
		b.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
		for c := range n {
			fmt.Fprintf(&b, "C-%04d,community,male,26-39,white,medium,2,P,false,insp.a\n", c)
		}
		if _, err := inspections.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(b.String())}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	e.record(t, ids[1], "C-0001", "2.3.3f", "no", "")
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\nC-0001,community,male,26-39,white,medium,none,P,false,insp.a\n"
	if _, err := inspections.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: ids[1], Csv: []byte(csv)}); err != nil {
		t.Fatal(err)
	}
	var analyst string
	for _, id := range ids {
		analyst = e.member(t, id, "ana.lyst", "analyst")
	}
	h, cases, msgs, err := exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	if h.Cases != 453 || len(cases) != 453 || msgs < 10 || len(h.Units) != 2 || h.Units[0] == h.Units[1] {
		t.Fatalf("header %+v; %d cases in %d messages", h, len(cases), msgs)
	}
	for i, c := range cases {
		want, unit := fmt.Sprintf("C-%04d", i), h.Units[0]
		if i >= 450 {
			want, unit = fmt.Sprintf("C-%04d", i-450), h.Units[1]
		}
		if c.Ref != want || c.Unit != unit {
			t.Fatalf("case %d is %s of %q, want %s of %q", i, c.Ref, c.Unit, want, unit)
		}
	}
	stale := cases[451]
	if len(stale.Answers) != 1 || stale.Answers[0].Value != "no" || stale.Attributes["mappa"] != "none" {
		t.Errorf("case whose answer no longer applies: %+v", stale)
	}

	pp, err := inspections.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "PP", FrameworkId: "probation-public-protection-2025"})
	if err != nil {
		t.Fatal(err)
	}
	e.member(t, pp.GetInspection().GetId(), "ana.lyst", "analyst")
	_, _, msgs, err = exportAll(t.Context(), e, analyst, &fieldworkv1.ExportDatasetRequest{InspectionIds: []string{ids[0], pp.GetInspection().GetId()}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "one framework version") || msgs != 0 {
		t.Errorf("pooling two frameworks: %v (%d messages)", err, msgs)
	}
}
