package server_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// The server keeps a sample's method only when it describes the file
// imported with it, attributes it to the caller whatever the message
// claims, and shows it to the lead and an administrator, not to an
// inspector.
func TestImportCasesKeepsSampleInfo(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // insp.a and insp.b on the team
	if err := e.srv.DB().CreateUser(t.Context(), adminActor, "lead.s", false); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DB().AddTeamMember(t.Context(), adminActor, id, "lead.s", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"S-1,community,male,26-39,white,medium,none,T,false,insp.a\n"
	info := framework.SampleInfo{Method: framework.SampleMethod, Seed: 5, SizeRule: framework.SizeFixed, Requested: 1, Population: 9, Size: 1,
		Strata: []string{}, Inspectors: []string{"insp.a"}, FrameworkID: "probation-pdu-2023", CaseloadSHA256: strings.Repeat("0f", 32),
		SampleSHA256: framework.SampleSHA256([]byte(csv)), ImportedBy: "someone.else"}
	ins := fieldworkv1.NewInspectionServiceClient(e.conn)
	lead := as(t.Context(), e.token(t, "lead.s"))

	other := info
	other.SampleSHA256 = strings.Repeat("aa", 32)
	_, err := ins.ImportCases(lead, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv), SampleInfo: wire.SampleInfoToProto(other)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "it describes another file") {
		t.Fatalf("sample info of another file: %v", err)
	}
	cases, err := ins.ListCases(lead, &fieldworkv1.ListCasesRequest{InspectionId: id})
	if err != nil || len(cases.GetCases()) != 2 {
		t.Fatalf("refused import stored cases: %v, %v", cases, err)
	}
	if _, err := ins.ImportCases(as(t.Context(), e.token(t, "insp.a")), &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv),
		SampleInfo: wire.SampleInfoToProto(info)}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an inspector imported a sample: %v", err)
	}
	if _, err := ins.ImportCases(lead, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv), DeviceId: "dev-lead",
		SampleInfo: wire.SampleInfoToProto(info)}); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string]int{"lead.s": 1, "insp.a": 0} {
		resp, err := ins.GetInspection(as(t.Context(), e.token(t, who)), &fieldworkv1.GetInspectionRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetSamples()) != want {
			t.Fatalf("%s sees %d samples, want %d", who, len(resp.GetSamples()), want)
		}
		if want == 1 {
			s := wire.SampleInfoFromProto(resp.GetSamples()[0])
			if s.Seed != 5 || s.ImportedBy != "lead.s" || s.DeviceID != "dev-lead" || s.ImportedAt.IsZero() {
				t.Errorf("kept %+v", s)
			}
		}
	}
	resp, err := ins.GetInspection(as(t.Context(), e.admin), &fieldworkv1.GetInspectionRequest{Id: id})
	if err != nil || len(resp.GetSamples()) != 1 {
		t.Errorf("admin: %v, %v", resp, err)
	}
}
