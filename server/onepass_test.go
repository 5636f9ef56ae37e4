package server_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

const casesHeader = "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n"

// Every import reports, in one call, the file's structural problems and
// the server's checks against the framework on the rows that could be
// read, each at its line and in line order; nothing is stored.
func TestImports_EveryProblemInOneCallInLineOrder(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.admin)
	svc := fieldworkv1.NewInspectionServiceClient(e.conn)
	quote := `a quote (") opens a field that is never closed`
	stray := `a stray quote (")`
	for _, c := range []struct {
		name string
		call func(csv string) error
		csv  string
		want []string // the lines of the message after its first, in order
	}{
		{"answers", func(csv string) error {
			_, err := svc.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: []byte(csv)})
			return err
		}, "case_ref,question_id,answer,note\n" +
			"T-1,2.1.1,yes,fine\n" + // 2
			"T-1,2.1.2,yes,\"the PO said so\n" + // 3: a quote never closed
			"T-1,2.1.3,no,\n" + // 4
			"T-1,2.1.4,maybe,\n" + // 5: not an answer
			"T-9,2.1.5,no,\n" + // 6: no such case
			"T-1,2.1.6,yes\n" + // 7: 3 fields
			"T-1,2.1.7,no,he said \"no\"\n", // 8: a bare quote
			[]string{"line 3, column 15: " + quote, "line 5: case T-1 question 2.1.4: ", "line 6: case T-9 is not in this inspection",
				"line 7: has 3 fields, the header has 4", "line 8, column 22: " + stray, "Rows that could not be read were left out"}},
		{"cases", func(csv string) error {
			_, err := svc.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv)})
			return err
		}, casesHeader +
			"C-1,community,male,26-39,white,medium,none,T,false,insp.a\n" + // 2
			"C-2,community,male,26-39,white,\"medium,none,T,false,insp.a\n" + // 3: a quote never closed
			"C-3,parole,male,26-39,white,medium,none,T,false,insp.a\n" + // 4: parole is no sentence type
			"C-4,community,male,26-39,white,medium,none,T,false,bad name\n" + // 5: not a user name
			"C-5,community,male,26-39,white,medium,none,T,false\n", // 6: 9 fields
			[]string{"line 3, column 32: " + quote, "line 4: case C-3: ", "line 5: case C-4: inspector: ", "line 6: has 9 fields, the header has 10"}},
		{"judgements", func(csv string) error {
			_, err := svc.ImportJudgements(ctx, &fieldworkv1.ImportJudgementsRequest{InspectionId: id, Csv: []byte(csv)})
			return err
		}, "standard_id,rating,rationale\n" +
			"P1.1,Good,seen\n" + // 2
			"P1.2,Splendid,seen\n" + // 3: no such rating
			"P1.3,Good,a \"b\"\n" + // 4: a bare quote
			"P9.9,Good,seen\n", // 5: no such standard
			[]string{"line 3: ", "line 4, column 13: " + stray, "line 5: "}},
		{"findings", func(csv string) error {
			_, err := svc.ImportFindings(ctx, &fieldworkv1.ImportFindingsRequest{InspectionId: id, Csv: []byte(csv)})
			return err
		}, "kind,standard_id,text\n" +
			"summary,,Fine.\n" + // 2
			"strength,9.9,x\n" + // 3: no such standard
			"praise,,x\n" + // 4: no such kind
			"summary,,Again.\n" + // 5: a second summary
			"recommendation,,x,y\n", // 6: 4 fields
			[]string{"line 3: ", "line 4: kind \"praise\"", "line 5: a second summary row", "line 6: has 4 fields, the header has 3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call(c.csv)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			lines := strings.Split(status.Convert(err).Message(), "\n")
			probs := len(c.want)
			if strings.HasPrefix(c.want[len(c.want)-1], "Rows") {
				probs--
			}
			if want := fmt.Sprintf("%s.csv: %d bad row(s):", c.name, probs); lines[0] != want {
				t.Errorf("first line %q, want %q", lines[0], want)
			}
			if len(lines)-1 != len(c.want) {
				t.Fatalf("message:\n%s\nwant %d lines after the first", status.Convert(err).Message(), len(c.want))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(strings.TrimPrefix(lines[i+1], "  "), w) {
					t.Errorf("line %d of the message = %q, want it to start %q", i+2, lines[i+1], w)
				}
			}
		})
	}
	// Nothing of any of them was stored.
	cases, err := svc.ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: id})
	if err != nil || len(cases.GetCases()) != 2 {
		t.Errorf("cases after the refused files: %v %v, want T-1 and T-2", cases.GetCases(), err)
	}
	list, _ := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(ctx, &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if len(list.GetAnswers()) != 0 {
		t.Errorf("answers stored from a refused file: %v", list.GetAnswers())
	}
}

// The checks behind a broken file's report are the import's: a caller
// who may not import into the inspection learns nothing of its cases, and
// a locked inspection says it is locked.
func TestImports_OnePassTellsNoOutsider(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	other := e.inspection(t)
	svc := fieldworkv1.NewInspectionServiceClient(e.conn)
	if err := e.srv.DB().AddTeamMember(t.Context(), adminActor, other, "lead.o", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	csv := "case_ref,question_id,answer,note\nT-1,2.1.1,\"yes\n" + "T-2,2.1.1,yes,\nT-7,2.1.1,yes,\n"
	for _, user := range []string{"insp.a", "lead.o"} {
		_, err := svc.ImportAnswers(as(t.Context(), e.token(t, user)), &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: []byte(csv)})
		msg := status.Convert(err).Message()
		if status.Code(err) != codes.PermissionDenied || strings.Contains(msg, "T-") || strings.Contains(msg, "line") {
			t.Errorf("%s: %v, want PermissionDenied naming no case and no line", user, err)
		}
	}
	ctx := as(t.Context(), e.admin)
	if _, err := svc.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: string(framework.InspectionLocked)}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: []byte(csv)})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "locked") {
		t.Errorf("locked: %v, want FailedPrecondition saying locked", err)
	}
}
