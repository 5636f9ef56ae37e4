package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The offline form's case list and case page count progress as the
// framework does (Framework.Completeness): applicable questions answered
// out of those that apply, where an na to a question that does not apply
// counts for nothing.
func TestUIProgressCountsApplicableQuestionsOnly(t *testing.T) {
	l, _ := offlineStore(t)
	ctx := context.Background()
	fw, err := l.Framework(ctx, "probation-pdu-2023", 1)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := l.Cases(ctx, "I")
	if err != nil {
		t.Fatal(err)
	}
	var c framework.Case
	for _, x := range cases {
		if x.Ref == "T-1" {
			c = x
		}
	}
	attrs := c.Attributes
	required := len(fw.Applicable(framework.Facts{Attributes: attrs}))
	if q, _ := fw.Question("2.3.3f"); required == 0 || required == len(fw.Questions()) {
		t.Fatalf("%d of %d questions apply; the test needs some that do not", required, len(fw.Questions()))
	} else if st, _ := fw.Applies(q, framework.Facts{Attributes: attrs}); st == framework.Applies {
		t.Fatal("2.3.3f applies to the test case; the test needs it not to")
	}
	for q, v := range map[string]string{"2.1.1": "yes", "2.1.2": "no", "2.3.3f": "na"} {
		if _, err := l.Record(ctx, "insp.a", "I", c.Ref, q, v, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, srv, hc := uiSession(t, l)
	list, _ := getPage(t, hc, srv.URL+"/")
	if want := fmt.Sprintf("%s: 2 of %d answered", c.Ref, required); !strings.Contains(list, want) {
		t.Errorf("case list lacks %q", want)
	}
	page, _ := getPage(t, hc, srv.URL+"/inspections/I/cases/"+c.Ref)
	if want := fmt.Sprintf("2 of %d applicable questions answered", required); !strings.Contains(page, want) {
		t.Errorf("case page lacks %q", want)
	}
}
