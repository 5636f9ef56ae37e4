package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

// Sign-out ends the session on the server, not only in the browser: the
// old cookie, sent again by hand (copied before signing out), opens
// nothing — no page, no fragment, no version.
func TestLiveView_SignedOutCookieOpensNothing(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t)
	b := l.browser(t)
	signedInTo(t, b.signIn(l.admin))
	base, _ := url.Parse(l.web.URL)
	old := b.hc.Jar.Cookies(base)
	if len(old) == 0 {
		t.Fatal("no session cookie after signing in")
	}
	if resp, _ := b.do(http.MethodPost, "/logout", url.Values{"csrf": {b.csrf("/")}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	replay := l.browser(t)
	replay.hc.Jar.SetCookies(base, old)
	for _, p := range []string{"/", "/inspections/" + id + "/", "/inspections/" + id + "/data", "/inspections/" + id + "/version"} {
		resp, body := replay.do(http.MethodGet, p, nil, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?error=ended" {
			t.Errorf("GET %s with the signed-out cookie: %d %s (to %q), want 303 to /login?error=ended", p, resp.StatusCode, body, resp.Header.Get("Location"))
		}
	}
}

// Whether an inspection exists is not told to a signed-in user who is not
// on its team: an inspection that does not exist and one they are not on
// get the same status and words, on every live-view URL, as the API gives
// (only administrators learn that an inspection does not exist). Before,
// one that does not exist was a 404 "not found" and one that does a 403.
func TestLiveView_ExistenceNotToldOffTheTeam(t *testing.T) {
	l := newLiveEnv(t)
	exists := l.inspection(t)
	missing := uuid.Must(uuid.NewV7()).String()
	if err := l.srv.DB().CreateUser(t.Context(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	b := l.browser(t)
	signedInTo(t, b.signIn(l.token(t, "outsider")))
	for _, p := range []string{"/inspections/%s/", "/inspections/%s/data", "/inspections/%s/version", "/inspections/%s/table?name=key_questions&page=1",
		"/inspections/%s/evidence?question=2.1.1"} {
		r1, b1 := b.do(http.MethodGet, fmtPath(p, exists), nil, nil)
		r2, b2 := b.do(http.MethodGet, fmtPath(p, missing), nil, nil)
		if r1.StatusCode != http.StatusForbidden || r2.StatusCode != r1.StatusCode || replaceID(b1, exists) != replaceID(b2, missing) {
			t.Errorf("%s: existing %d %q, missing %d %q; want one 403 in the same words", p, r1.StatusCode, b1, r2.StatusCode, b2)
		}
	}
	pooled := "/pooled/version?" + url.Values{"id": {exists, l.inspection(t)}}.Encode()
	pooledMissing := "/pooled/version?" + url.Values{"id": {missing, l.inspection(t)}}.Encode()
	r1, b1 := b.do(http.MethodGet, pooled, nil, nil)
	r2, b2 := b.do(http.MethodGet, pooledMissing, nil, nil)
	if r1.StatusCode != http.StatusForbidden || r2.StatusCode != r1.StatusCode || replaceID(b1, exists) != replaceID(b2, missing) {
		t.Errorf("pooled: existing %d %q, missing %d %q; want one 403 in the same words", r1.StatusCode, b1, r2.StatusCode, b2)
	}
}

func fmtPath(p, id string) string { return strings.ReplaceAll(p, "%s", id) }

func replaceID(body, id string) string { return strings.ReplaceAll(body, id, "ID") }

// A long agreement table is drawn in pages like any other, and its pages
// open: the table page draws the same report as the live page, agreement
// figures included. Before, the live page offered the agreement table's
// pages and every one of them was a 404 ("no table agreement").
func TestLiveView_LongAgreementTableHasItsPages(t *testing.T) {
	defer server.SetTableRows(3, 2)()
	l := newLiveEnv(t)
	id := l.inspection(t)
	p := func(ref, q, first, a, b string) framework.MarkingPair {
		return framework.MarkingPair{CaseRef: ref, QuestionID: q, FirstMarker: first, First: a, SecondMarker: "qa.q", Second: b}
	}
	defer server.FeedMarkingPairs(map[string][]framework.MarkingPair{id: {
		p("T-1", "2.1.1", "insp.a", "yes", "yes"), p("T-1", "2.1.2", "insp.a", "yes", "no"), p("T-2", "2.1.1", "insp.b", "no", "no"),
	}})()
	b := l.browser(t)
	signedInTo(t, b.signIn(l.admin))
	_, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
	if !strings.Contains(page, `<select id="page-agreement" name="page">`) {
		t.Fatalf("the agreement table is not drawn in pages:\n%.2000s", page)
	}
	resp, body := b.do(http.MethodGet, "/inspections/"+id+"/table?name=agreement&page=1", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<td>all key questions</td>") {
		t.Errorf("agreement table, page 1: %d %.600s", resp.StatusCode, body)
	}
}

// Hostile text in the sections that need action — a conflict's two notes,
// a refused edit's value and note — is shown as text: no markup of it
// reaches the page or the fragment the script swaps in.
func TestLiveView_HostileTextInWhatNeedsAction(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	insp := l.token(t, "insp.b")
	op := func(device string, seq int64, q, v, note string) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: q, Value: v, Note: note, DeviceId: device, DeviceSeq: seq}
	}
	l.push(t, insp, op("dev-1", 1, "2.1.1", "yes", "server "+evil))
	if a := l.push(t, insp, op("dev-2", 1, "2.1.1", "no", "client "+evil))[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_CONFLICT {
		t.Fatalf("want a conflict: %v", a)
	}
	if a := l.push(t, insp, op("dev-3", 1, "2.1.2", evil, evil))[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
		t.Fatalf("want a refusal: %v", a)
	}
	b := l.browser(t)
	signedInTo(t, b.signIn(l.admin))
	for _, p := range []string{"/inspections/" + id + "/", "/inspections/" + id + "/data"} {
		_, body := b.do(http.MethodGet, p, nil, nil)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: hostile markup on the page", p)
		}
		if c := section(t, body, "conflicts"); !strings.Contains(c, "server &lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(c, "client &lt;script&gt;") {
			t.Errorf("%s: conflict notes not shown as text:\n%s", p, c)
		}
		if r := section(t, body, "refused"); strings.Count(r, "<tr>") != 2 {
			t.Errorf("%s: refused edit not listed:\n%s", p, r)
		}
	}
}
