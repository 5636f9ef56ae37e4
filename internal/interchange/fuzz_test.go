package interchange_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Every reader either returns rows that pass its own checks or an
// invalid-argument error; it never panics, whatever the bytes.
func FuzzReadAnswers(f *testing.F) {
	f.Add([]byte("case_ref,question_id,answer,note\nGW-001,2.1.1,yes,\n"))
	f.Add([]byte("case_ref,question_id,answer,note\nGW-001,2.1.1,yes,\"a \"\"quoted\"\" note\"\n"))
	f.Add([]byte("\ufeffcase_ref,answer,question_id\nx,y\n"))
	f.Add([]byte("case_ref,question_id,answer\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := interchange.ReadAnswers(bytes.NewReader(data))
		if err != nil {
			if framework.ErrorCode(err) != framework.CodeInvalid {
				t.Fatalf("error %v is not invalid-argument", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if framework.FieldCaseRef.Check(r.CaseRef) != nil || r.QuestionID == "" || framework.FieldNote.Check(r.Note) != nil {
				t.Fatalf("accepted a bad row %+v", r)
			}
			k := r.CaseRef + "\x00" + r.QuestionID
			if seen[k] {
				t.Fatalf("accepted a duplicate row %+v", r)
			}
			seen[k] = true
		}
	})
}

func FuzzReadCases(f *testing.F) {
	f.Add([]byte("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\nGW-001,community,male,26-39,white,medium,none,Gwent,false,insp.ahmed\n"))
	f.Add([]byte("case_ref,inspector\nA B,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := interchange.ReadCases(bytes.NewReader(data))
		if err != nil {
			if framework.ErrorCode(err) != framework.CodeInvalid {
				t.Fatalf("error %v is not invalid-argument", err)
			}
			return
		}
		for _, r := range rows {
			if framework.FieldCaseRef.Check(r.Case.Ref) != nil || strings.ContainsAny(r.Case.Ref, " \n") {
				t.Fatalf("accepted a bad case reference %q", r.Case.Ref)
			}
		}
	})
}

func FuzzReadJudgements(f *testing.F) {
	f.Add([]byte("standard_id,rating,rationale\nP1.1,Good,Clear strategy\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := interchange.ReadJudgements(bytes.NewReader(data)); err != nil && framework.ErrorCode(err) != framework.CodeInvalid {
			t.Fatalf("error %v is not invalid-argument", err)
		}
	})
}
