package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// oddRef is a case reference with every character a link must encode.
const oddRef = "GW/001 #a?b%"

// offlineStore is a real client store holding one inspection of the built-in
// framework with cases T-1 and oddRef assigned to insp.a, as a sync leaves
// it. Opened fresh, its framework cache is empty.
func offlineStore(t *testing.T) (*localstore.Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "client.db")
	l, err := localstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pdu, pduRaw, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutFramework(ctx, pdu.ID, pdu.Version, pduRaw); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "Test", FrameworkID: pdu.ID, FrameworkVersion: pdu.Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	changes := []framework.Change{{InspectionID: "I", Inspection: in}}
	for _, ref := range []string{"T-1", oddRef} {
		changes = append(changes, framework.Change{InspectionID: "I", Case: &framework.Case{Ref: ref, Inspector: "insp.a", Status: framework.CaseInProgress,
			Attributes: map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium",
				"mappa": "none", "pdu": "Test", "contact_suspended": "false"}}})
	}
	if err := l.ApplyChanges(ctx, changes, int64(len(changes))); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// Reopened: nothing of the framework is cached yet.
	l, err = localstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// uiSession serves a UI over loopback HTTP and signs an HTTP client in
// through a one-time start address.
func uiSession(t *testing.T, l *localstore.Store) (*client.UI, *httptest.Server, *http.Client) {
	t.Helper()
	ui := client.NewUI(client.New(nil, client.NewOffline(l)), "insp.a")
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	// Not following the start page on: the caller decides what loads first.
	first := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := first.Get(ui.StartURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("start: %s", resp.Status)
	}
	return ui, srv, &http.Client{Jar: jar}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// getPage GETs a page and returns its body and CSRF token.
func getPage(t *testing.T, hc *http.Client, u string) (string, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Error(err)
		return "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s\n%.300s", u, resp.Status, b)
	}
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		return string(b), ""
	}
	return string(b), m[1]
}

// The form's handlers share one client store; several requests at once
// (the browser loads a page while autosaves are in flight) must not race.
// Run with -race: each round opens the store afresh, so the requests,
// released together, all find its framework cache empty.
func TestUIHandlersConcurrently(t *testing.T) {
	_, path := offlineStore(t)
	questions := []string{"2.1.1", "2.1.2", "2.1.3", "2.2.1", "2.2.3b", "2.3.3c"}
	for round := range 3 {
		l, err := localstore.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		_, srv, hc := uiSession(t, l)
		hc.Transport = &http.Transport{MaxIdleConnsPerHost: 2 * len(questions)}
		caseURL := srv.URL + "/inspections/I/cases/T-1"
		// The conflicts page needs no framework; loading it on every
		// connection first keeps them open for the burst below.
		var warm sync.WaitGroup
		tokens := make([]string, 2*len(questions))
		for i := range tokens {
			warm.Go(func() { _, tokens[i] = getPage(t, hc, srv.URL+"/conflicts") })
		}
		warm.Wait()
		csrf := tokens[0]
		if csrf == "" {
			t.Fatal("no CSRF token on the conflicts page")
		}
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i, q := range questions {
			wg.Go(func() {
				<-gate
				getPage(t, hc, caseURL)
			})
			wg.Go(func() {
				<-gate
				form := url.Values{"csrf": {csrf}, "v-" + q: {"yes"}, "n-" + q: {fmt.Sprintf("note %d.%d", round, i)}}
				resp, err := hc.PostForm(caseURL, form)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("save %s: %s %.300s", q, resp.Status, b)
				}
			})
		}
		close(gate)
		wg.Wait()
		as, err := l.Answers(context.Background(), "I", "T-1")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range as {
			got[a.QuestionID] = a.Value + "|" + a.Note
		}
		for i, q := range questions {
			if want := fmt.Sprintf("yes|note %d.%d", round, i); got[q] != want {
				t.Errorf("round %d: %s = %q, want %q", round, q, got[q], want)
			}
		}
		if n, _ := l.PendingCount(context.Background()); n != (round+1)*len(questions) {
			t.Errorf("round %d: outbox holds %d ops, want %d", round, n, (round+1)*len(questions))
		}
		srv.Close()
		l.Close()
	}
}

// noRedirect is a client that shows each response as it comes.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func status(t *testing.T, hc *http.Client, method, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// The form's key is a one-time code: exchanged once, within CodeTTL, for
// an HttpOnly SameSite=Strict session cookie; the address that carried it
// then opens nothing, nor does an expired code, and a session left unused
// for SessionIdle ends.
func TestUISignInCodeWorksOnceAndExpires(t *testing.T) {
	l, _ := offlineStore(t)
	ui := client.NewUI(client.New(nil, client.NewOffline(l)), "insp.a")
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ui.Now = func() time.Time { return now }
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()

	start := ui.StartURL(srv.URL)
	if !strings.Contains(start, "code=") {
		t.Fatalf("start address %q carries no code", start)
	}
	jar, _ := cookiejar.New(nil)
	resp, body := status(t, noRedirect(jar), "GET", start, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `url=/cases`) {
		t.Fatalf("first use of the code: %s %q", resp.Status, body)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "fieldwork_ui" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", session)
	}
	if strings.Contains(start, session.Value) {
		t.Error("the session id is the code")
	}
	if resp, _ := status(t, noRedirect(jar), "GET", srv.URL+"/cases", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the browser that exchanged the code: GET /cases %s", resp.Status)
	}
	// The same code again, from another browser: refused, and no cookie.
	other, _ := cookiejar.New(nil)
	if resp, _ := status(t, noRedirect(other), "GET", start, nil, nil); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("second use of the code: %s, cookies %v; want 403 and none", resp.Status, resp.Cookies())
	}
	if resp, _ := status(t, noRedirect(other), "GET", srv.URL+"/cases", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /cases after a refused code: %s, want 403", resp.Status)
	}
	// An expired code.
	late := ui.StartURL(srv.URL)
	now = now.Add(client.CodeTTL)
	if resp, _ := status(t, noRedirect(other), "GET", late, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a code used after %v: %s, want 403", client.CodeTTL, resp.Status)
	}
	// A wrong code, or none.
	for _, u := range []string{srv.URL + "/?code=" + strings.Repeat("0", 64), srv.URL + "/?code=", srv.URL + "/"} {
		if resp, _ := status(t, noRedirect(other), "GET", u, nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %s, want 403", u, resp.Status)
		}
	}
	// The session lives while it is used, and ends after SessionIdle unused.
	now = now.Add(client.SessionIdle - 2*client.CodeTTL) // since its last use, before the code expired
	if resp, _ := status(t, noRedirect(jar), "GET", srv.URL+"/conflicts", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("session used within %v: %s", client.SessionIdle, resp.Status)
	}
	now = now.Add(client.SessionIdle)
	if resp, _ := status(t, noRedirect(jar), "GET", srv.URL+"/conflicts", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("session unused for %v: %s, want 403", client.SessionIdle, resp.Status)
	}
}

// `fieldwork ui` opens the browser on a start page file: only the user
// can read it, and the command that opens it carries neither the code nor
// anything else that lets a browser in. The page posts the code (from a
// file, so cross-site) and that browser is in.
func TestUIStartPageKeepsTheCodeOffTheCommandLine(t *testing.T) {
	l, _ := offlineStore(t)
	ui := client.NewUI(client.New(nil, client.NewOffline(l)), "insp.a")
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	path, remove, err := ui.WriteStartPage(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("start page mode %v (%v), want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("start page folder mode %v (%v), want 0700", di.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	m := regexp.MustCompile(`name="code" value="([0-9a-f]{64})"`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no code in the start page:\n%s", raw)
	}
	code := string(m[1])
	cmd := client.BrowserCommand("/usr/bin/xdg-open", path)
	argv := strings.Join(append([]string{cmd.Path}, cmd.Args...), " ")
	if strings.Contains(argv, code) || strings.Contains(argv, "code=") || strings.Contains(argv, "http") {
		t.Errorf("the browser's command line %q carries the sign-in", argv)
	}
	if len(cmd.Args) != 2 || cmd.Args[1] != path {
		t.Errorf("browser command %q, want the opener and the page's path", cmd.Args)
	}
	jar, _ := cookiejar.New(nil)
	// As a browser posts a form from a file: cross-site, origin null.
	fromFile := http.Header{"Origin": {"null"}, "Sec-Fetch-Site": {"cross-site"}}
	resp, _ := status(t, noRedirect(jar), "POST", srv.URL+"/start", url.Values{"code": {code}}, fromFile)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("posting the start page: %s, cookies %v", resp.Status, resp.Cookies())
	}
	if resp, _ := status(t, noRedirect(jar), "GET", srv.URL+"/cases", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the start page: GET /cases %s", resp.Status)
	}
	if resp, _ := status(t, noRedirect(nil), "POST", srv.URL+"/start", url.Values{"code": {code}}, fromFile); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the start page's code posted twice: %s, want 403", resp.Status)
	}
	remove()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("remove left the start page folder: %v", err)
	}
}

// A case reference holding / ? # % and a space opens, saves, syncs and
// submits through its links like any other; every address is encoded.
func TestUICaseRefsAreEncodedInEveryLink(t *testing.T) {
	l, _ := offlineStore(t)
	_, srv, hc := uiSession(t, l)
	cases, csrf := getPage(t, hc, srv.URL+"/cases")
	want := "/inspections/I/cases/" + url.PathEscape(oddRef)
	if want != "/inspections/I/cases/GW%2F001%20%23a%3Fb%25" {
		t.Fatalf("escaped ref %q", want)
	}
	if !strings.Contains(cases, `href="`+want+`"`) {
		t.Fatalf("My cases has no link %s:\n%s", want, cases)
	}
	page, _ := getPage(t, hc, srv.URL+want)
	for _, s := range []string{`<h1>Case GW/001 #a?b%</h1>`, `action="` + want + `"`, `formaction="` + want + `/submit"`, `formaction="` + want + `/sync"`, `data-autosave="` + want + `/autosave"`} {
		if !strings.Contains(page, s) {
			t.Errorf("case page lacks %s", s)
		}
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		form.Set("csrf", csrf)
		return status(t, noRedirect(hc.Jar), "POST", srv.URL+want+path, form, nil)
	}
	if resp, body := post("/autosave", url.Values{"v-2.1.1": {"yes"}, "n-2.1.1": {"autosaved"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"saved":1`) {
		t.Errorf("autosave: %s %s", resp.Status, body)
	}
	resp, _ := post("", url.Values{"v-2.1.2": {"no"}, "n-2.1.2": {""}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want+"?") {
		t.Errorf("save: %s to %q, want a redirect to %s", resp.Status, loc, want)
	}
	// Offline, Sync now and Submit case still save what they carry first.
	resp, _ = post("/sync", url.Values{"v-2.1.3": {"yes"}, "n-2.1.3": {""}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want+"?") {
		t.Errorf("sync: %s to %q", resp.Status, loc)
	}
	resp, _ = post("/submit", url.Values{"v-2.2.1": {"na"}, "n-2.2.1": {"moved"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want+"?") {
		t.Errorf("submit: %s to %q", resp.Status, loc)
	}
	as, _ := l.Answers(context.Background(), "I", oddRef)
	got := map[string]string{}
	for _, a := range as {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	for q, v := range map[string]string{"2.1.1": "yes|autosaved", "2.1.2": "no|", "2.1.3": "yes|", "2.2.1": "na|moved"} {
		if got[q] != v {
			t.Errorf("%s %s = %q, want %q", oddRef, q, got[q], v)
		}
	}
	if other, _ := l.Answers(context.Background(), "I", "GW"); len(other) != 0 {
		t.Errorf("answers landed on case GW: %v", other)
	}
	// The header's Sync now on other pages returns to an encoded address too.
	resp, _ = status(t, noRedirect(hc.Jar), "POST", srv.URL+"/sync", url.Values{"csrf": {csrf}, "back": {want}}, nil)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, want+"?") {
		t.Errorf("sync from a page: back to %q", loc)
	}
	for _, back := range []string{"//evil.example/", "/\\evil.example/", "https://evil.example/"} {
		resp, _ = status(t, noRedirect(hc.Jar), "POST", srv.URL+"/sync", url.Values{"csrf": {csrf}, "back": {back}}, nil)
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/cases?") {
			t.Errorf("sync with back=%q went to %q, want /cases", back, loc)
		}
	}
}

// Autosave: a refused input comes back with its reason for the page to
// show beside the question; a save of the page that arrives after a later
// one replaces nothing; a write needs the form token and the page's origin.
func TestUIAutosave(t *testing.T) {
	l, _ := offlineStore(t)
	_, srv, hc := uiSession(t, l)
	caseURL := srv.URL + "/inspections/I/cases/T-1"
	page, csrf := getPage(t, hc, caseURL)
	formID := regexp.MustCompile(`name="form_id" value="([0-9a-f]+)"`).FindStringSubmatch(page)[1]
	autosave := func(form url.Values, header http.Header) (int, map[string]any) {
		t.Helper()
		if form.Get("csrf") == "" {
			form.Set("csrf", csrf)
		}
		resp, body := status(t, hc, "POST", caseURL+"/autosave", form, header)
		var out map[string]any
		json.Unmarshal([]byte(body), &out)
		return resp.StatusCode, out
	}
	code, res := autosave(url.Values{"v-2.3.S1": {"0"}, "n-2.3.S1": {""}, "v-2.1.1": {"yes"}, "n-2.1.1": {""}}, nil)
	errs, _ := res["errors"].(map[string]any)
	if code != http.StatusOK || res["saved"] != 1.0 || res["unsynced"] != 1.0 || !strings.Contains(fmt.Sprint(errs["2.3.S1"]), "below the minimum 1") {
		t.Errorf("autosave with a count below its minimum: %d %v", code, res)
	}
	_, res = autosave(url.Values{"n-2.1.2": {"a note before an answer"}}, nil)
	if errs, _ := res["errors"].(map[string]any); !strings.Contains(fmt.Sprint(errs["2.1.2"]), "Choose an answer") {
		t.Errorf("a note without an answer: %v, want a message", res)
	}

	// Out of order: the page's save 3 (no) arrives before its save 2 (yes).
	seq := func(n string, v string) url.Values {
		return url.Values{"form_id": {formID}, "seq": {n}, "v-2.1.3": {v}, "n-2.1.3": {v + " note"}}
	}
	answer := func(q string) string {
		as, _ := l.Answers(context.Background(), "I", "T-1")
		for _, a := range as {
			if a.QuestionID == q {
				return a.Value + "|" + a.Note
			}
		}
		return ""
	}
	autosave(seq("3", "no"), nil)
	autosave(seq("2", "yes"), nil)
	if got := answer("2.1.3"); got != "no|no note" {
		t.Errorf("2.1.3 = %q after saves 3 then 2 of one page, want no (save 3)", got)
	}
	// A post without a sequence number (a page without script) always saves.
	autosave(url.Values{"form_id": {formID}, "v-2.1.3": {"yes"}, "n-2.1.3": {""}}, nil)
	if got := answer("2.1.3"); got != "yes|" {
		t.Errorf("2.1.3 = %q after a post without a sequence number, want yes", got)
	}

	// Every saving endpoint checks the token and the origin.
	for _, path := range []string{"/autosave", "/sync", "/submit", ""} {
		for name, c := range map[string]struct {
			csrf   string
			header http.Header
		}{
			"no token":     {"x", nil},
			"cross-site":   {csrf, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
			"other origin": {csrf, http.Header{"Origin": {"http://evil.example"}}},
		} {
			resp, _ := status(t, hc, "POST", caseURL+path, url.Values{"csrf": {c.csrf}, "v-2.1.1": {"no"}, "n-2.1.1": {""}}, c.header)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s: %s, want 403", path, name, resp.Status)
			}
		}
	}
	if as, _ := l.Answers(context.Background(), "I", "T-1"); len(as) == 0 || as[0].QuestionID != "2.1.1" || as[0].Value != "yes" {
		t.Errorf("a refused write changed 2.1.1: %v", as)
	}
}

// A refused edit is listed in the form with the value and note typed and
// the server's reason, and stays until the inspector records it again or
// dismisses it there.
func TestUIRefusedEditsListedUntilSettled(t *testing.T) {
	l, _ := offlineStore(t)
	ctx := context.Background()
	const note = "the <b>OASys</b> note"
	var ops []framework.Op
	for _, q := range []string{"2.1.1", "2.1.2"} {
		op, err := l.Record(ctx, "insp.a", "I", "T-1", q, "yes", note)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	refuse := framework.Errorf(framework.CodePrecondition, "inspection I is locked")
	acks := []framework.Ack{{OpID: ops[0].ID, Result: framework.OpRejected, Reason: refuse.Error(), Err: refuse},
		{OpID: ops[1].ID, Result: framework.OpRejected, Reason: refuse.Error(), Err: refuse}}
	if err := l.Acknowledge(ctx, ops, acks); err != nil {
		t.Fatal(err)
	}
	_, srv, hc := uiSession(t, l)
	page, csrf := getPage(t, hc, srv.URL+"/refused")
	for _, want := range []string{"Refused edits (2)", "question 2.1.1", "question 2.1.2", "the &lt;b&gt;OASys&lt;/b&gt; note", "inspection I is locked"} {
		if !strings.Contains(page, want) {
			t.Errorf("refused page lacks %q", want)
		}
	}
	post := func(op, action string) {
		t.Helper()
		resp, body := status(t, noRedirect(hc.Jar), "POST", srv.URL+"/refused/"+op, url.Values{"csrf": {csrf}, "action": {action}},
			http.Header{"Origin": {srv.URL}})
		if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "err=1") {
			t.Errorf("%s %s: %s %s %.200s", action, op, resp.Status, resp.Header.Get("Location"), body)
		}
	}
	post(ops[0].ID, "dismiss")
	post(ops[1].ID, "again")
	if rs, _ := l.Rejections(ctx); len(rs) != 0 {
		t.Errorf("open refusals after settling both = %+v", rs)
	}
	if ids, _ := l.PendingDismissals(ctx); len(ids) != 1 || ids[0] != ops[0].ID {
		t.Errorf("dismissals to send = %v, want %s", ids, ops[0].ID)
	}
	if as, _ := l.Answers(ctx, "I", "T-1"); len(as) != 1 || as[0].QuestionID != "2.1.2" || as[0].Note != note {
		t.Errorf("answers after recording 2.1.2 again = %+v, want it back with its note", as)
	}
	if page, _ := getPage(t, hc, srv.URL+"/refused"); !strings.Contains(page, "Refused edits (0)") {
		t.Error("the header still counts settled refusals")
	}
}

// A save the store refuses comes back in the domain's own words, as the
// page shows it beside the question: no wrapping context (the page names
// the case and the question already), and none of it stripped by text.
func TestUIAutosave_ShowsARefusalInItsOwnWords(t *testing.T) {
	l, _ := offlineStore(t)
	ctx := context.Background()
	// T-1 submitted, as a sync leaves it after QA has it.
	submitted := &framework.Case{Ref: "T-1", Inspector: "insp.a", Status: framework.CaseSubmitted,
		Attributes: map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium",
			"mappa": "none", "pdu": "Test", "contact_suspended": "false"}}
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Case: submitted}}, 10); err != nil {
		t.Fatal(err)
	}
	_, srv, hc := uiSession(t, l)
	caseURL := srv.URL + "/inspections/I/cases/T-1"
	_, csrf := getPage(t, hc, caseURL)
	resp, body := status(t, hc, "POST", caseURL+"/autosave", url.Values{"csrf": {csrf}, "v-2.1.1": {"yes"}, "n-2.1.1": {""}}, nil)
	var res struct {
		Saved  int               `json:"saved"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("autosave: %s %v %s", resp.Status, err, body)
	}
	want := "case is submitted: ask QA or the lead to return it before changing answers"
	if res.Saved != 0 || res.Errors["2.1.1"] != want {
		t.Errorf("autosave on a submitted case: saved %d, message %q; want 0 saved and %q", res.Saved, res.Errors["2.1.1"], want)
	}
}
