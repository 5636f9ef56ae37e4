package client_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Issue 15's server side of the case page: a post comes back to the
// place named by "at" only when it names a question's element (nothing
// else reaches the address); "not applicable" for a section records each
// unanswered question na on its own and leaves answers and counts alone;
// the print view escapes notes; a case the user may not change is shown
// without a single control.
func TestUICaseRecordingServerSide(t *testing.T) {
	l, _ := offlineStore(t)
	_, srv, hc := uiSession(t, l)
	noFollow := noRedirect(hc.Jar)
	caseURL := srv.URL + "/inspections/I/cases/T-1"
	_, csrf := getPage(t, hc, caseURL)

	for at, want := range map[string]string{
		"n-2.1.1":             "#n-2.1.1",
		"v-2.1.1-yes":         "#v-2.1.1-yes",
		"javascript:alert(1)": "",
		"//evil.example/x":    "",
		"q-2.1.1\"><script>":  "",
		"x-2.1.1":             "",
	} {
		resp, _ := status(t, noFollow, http.MethodPost, caseURL, url.Values{"csrf": {csrf}, "at": {at}}, nil)
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "/inspections/I/cases/T-1?") {
			t.Errorf("at=%q: redirected to %q", at, loc)
		}
		frag := ""
		if i := strings.IndexByte(loc, '#'); i >= 0 {
			frag = loc[i:]
		}
		if frag != want {
			t.Errorf("at=%q: fragment %q, want %q", at, frag, want)
		}
	}

	// P2.3 not applicable with 2.3.1 answered already: the rest of P2.3
	// (but its count, 2.3.S1) na, one op each.
	if _, err := l.Record(t.Context(), "insp.a", "I", "T-1", "2.3.1", "yes", "seen"); err != nil {
		t.Fatal(err)
	}
	before, _ := l.PendingCount(t.Context())
	resp, _ := status(t, noFollow, http.MethodPost, caseURL+"/na", url.Values{"csrf": {csrf}, "na": {"P2.3"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "#q-2.3.1") {
		t.Fatalf("na P2.3: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	flash, _ := url.ParseQuery(strings.SplitN(strings.SplitN(resp.Header.Get("Location"), "?", 2)[1], "#", 2)[0])
	if f := flash.Get("flash"); !strings.Contains(f, "Marked 14 question(s) of P2.3") || !strings.Contains(f, "2.3.1, 2.3.S1") {
		t.Errorf("na P2.3 said %q", f)
	}
	as, _ := l.Answers(t.Context(), "I", "T-1")
	got := map[string]string{}
	for _, a := range as {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	if got["2.3.1"] != "yes|seen" || got["2.3.S1"] != "" || got["2.3.3a"] != "na|" || got["2.3.3f"] != "" || len(got) != 15 {
		t.Errorf("after na P2.3: 2.3.1=%q 2.3.S1=%q 2.3.3a=%q 2.3.3f=%q, %d answers", got["2.3.1"], got["2.3.S1"], got["2.3.3a"], got["2.3.3f"], len(got))
	}
	if after, _ := l.PendingCount(t.Context()); after-before != 14 {
		t.Errorf("%d op(s) queued by the na action, want 14", after-before)
	}
	// An unknown scope says so and records nothing.
	resp, _ = status(t, noFollow, http.MethodPost, caseURL+"/na", url.Values{"csrf": {csrf}, "na": {"<b>P9</b>"}}, nil)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "err=1") || !strings.Contains(loc, "neither+a+section") {
		t.Errorf("na of an unknown scope: %q", loc)
	}
	if n, _ := l.PendingCount(t.Context()); n != before+14 {
		t.Errorf("an unknown scope queued %d op(s)", n-before-14)
	}

	// The print view: every attribute, answers in words, notes escaped.
	if _, err := l.Record(t.Context(), "insp.a", "I", "T-1", "2.1.1", "no", "<script>alert(1)</script>"); err != nil {
		t.Fatal(err)
	}
	body, _ := getPage(t, hc, caseURL+"/print")
	for _, want := range []string{"<main", "Risk of serious harm", "MAPPA level", "Not applicable", "&lt;script&gt;alert(1)&lt;/script&gt;", `id="p-2.1.1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("print view lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("print view holds the note's markup unescaped")
	}

	// Submitted: read-only, no control, no script.
	if err := l.ApplyChanges(t.Context(), []framework.Change{{InspectionID: "I", Case: &framework.Case{Ref: "T-1", Inspector: "insp.a", Status: framework.CaseSubmitted,
		Attributes: map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium",
			"mappa": "none", "pdu": "Test", "contact_suspended": "false"}}}}, 99); err != nil {
		t.Fatal(err)
	}
	body, _ = getPage(t, hc, caseURL)
	if !strings.Contains(body, `id="readonly"`) || !strings.Contains(body, "case is submitted") {
		t.Errorf("a submitted case does not say it is read-only")
	}
	for _, not := range []string{`id="submit"`, `class="na-all"`, `accesskey="s"`, "<script>"} {
		if strings.Contains(body, not) {
			t.Errorf("a submitted case's page holds %q", not)
		}
	}
	if n, m := strings.Count(body, "<fieldset"), strings.Count(body, " disabled>"); n == 0 || n != m {
		t.Errorf("%d of %d fieldsets disabled on a submitted case", m, n)
	}
}
