package server_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/server"
)

// liveEnv is the live view over a real HTTP server, on a real store.
type liveEnv struct {
	*testEnv
	web *httptest.Server
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(t.TempDir(), "fieldwork.db")
	e := newTestServerAt(t, cfg, &syncBuffer{})
	web := httptest.NewServer(e.srv.HTTPHandler())
	t.Cleanup(web.Close)
	return &liveEnv{testEnv: e, web: web}
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// sending what a browser sends with a same-origin form.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (l *liveEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: l.web.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches a page and returns the CSRF token of its form ("" if it
// has none: the checks below then say what is missing).
func (b *browser) csrf(path string) string {
	b.t.Helper()
	resp, body := b.do(http.MethodGet, path, nil, nil)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%.400s", path, resp.StatusCode, body)
	}
	if m := csrfField.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// signIn posts the sign-in form as the page would and returns the response.
func (b *browser) signIn(token string) *http.Response {
	b.t.Helper()
	resp, _ := b.do(http.MethodPost, "/login", url.Values{"csrf": {b.csrf("/login")}, "token": {token}}, nil)
	return resp
}

// home reports whether the inspections page opens (true) or the browser
// is sent to sign in (false).
func (b *browser) home() bool {
	b.t.Helper()
	resp, body := b.do(http.MethodGet, "/", nil, nil)
	switch {
	case resp.StatusCode == http.StatusOK && strings.Contains(body, "Signed in as"):
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login"):
		return false
	}
	b.t.Fatalf("GET /: %d %q", resp.StatusCode, body)
	return false
}

func signedInTo(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The browser holds a random session id, never the token: no cookie
// carries the token (or its hash), the session cookie is HttpOnly and
// SameSite=Strict, and the token itself in the cookie opens nothing.
func TestLiveView_SessionCookieIsNotTheToken(t *testing.T) {
	l := newLiveEnv(t)
	token := l.token(t, "admin")
	b := l.browser(t)
	resp := b.signIn(token)
	signedInTo(t, resp)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 && c.Value != "" && (strings.Contains(c.Value, token) || strings.Contains(c.Value, store.TokenHash(token)) || strings.Contains(token, c.Value)) {
			t.Errorf("cookie %s carries the token: %q", c.Name, c.Value)
		}
		if c.Name == "fieldwork_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie set: %v", resp.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || len(session.Value) < 40 {
		t.Errorf("session cookie %+v, want HttpOnly, SameSite=Strict, Path=/ and a long random value", session)
	}
	if !b.home() {
		t.Fatal("the session does not open the inspections page")
	}

	// The token used as the cookie value (what the cookie used to hold) is no session.
	forged := l.browser(t)
	u, _ := url.Parse(l.web.URL)
	forged.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "fieldwork_session", Value: token}, {Name: "fieldwork_token", Value: token}})
	if forged.home() {
		t.Error("a cookie holding the token opened the live view")
	}
}

// Revoking the token a session was opened with ends the session at its
// next request.
func TestLiveView_RevokingTheTokenEndsTheSession(t *testing.T) {
	l := newLiveEnv(t)
	token := l.token(t, "admin")
	b := l.browser(t)
	signedInTo(t, b.signIn(token))
	if !b.home() {
		t.Fatal("not signed in")
	}
	if _, err := l.srv.DB().RevokeToken(t.Context(), adminActor, "admin", store.TokenID(token)); err != nil {
		t.Fatal(err)
	}
	if b.home() {
		t.Fatal("the session outlived its revoked token")
	}
}

// A session ends after 8 hours unused, and after 24 hours however used.
func TestLiveView_ExpiredSessionIsRefused(t *testing.T) {
	l := newLiveEnv(t)
	token := l.token(t, "admin")
	b := l.browser(t)
	signedInTo(t, b.signIn(token))
	server.AdvanceClock(l.srv, 8*time.Hour+time.Minute)
	if b.home() {
		t.Fatal("a session unused for 8 hours still opens the live view")
	}
	signedInTo(t, b.signIn(token))
	for i := range 3 { // used every 7 hours: 21 hours in, still live
		server.AdvanceClock(l.srv, 7*time.Hour)
		if !b.home() {
			t.Fatalf("a session used every 7 hours ended after %d hours", 7*(i+1))
		}
	}
	server.AdvanceClock(l.srv, 3*time.Hour+time.Minute)
	if b.home() {
		t.Fatal("a session 24 hours old still opens the live view")
	}
}

// Twenty failed sign-ins from one address in a minute, then the next
// attempt is refused with 429 before its token is looked at, even a valid
// one; a minute later sign-in works again.
func TestLiveView_FailedSignInsAreLimited(t *testing.T) {
	l := newLiveEnv(t)
	token := l.token(t, "admin")
	b := l.browser(t)
	for i := range 20 {
		resp := b.signIn("fw_guess" + strings.Repeat("x", i))
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error") {
			t.Fatalf("failed sign-in %d: %d %q, want back to the form with an error", i+1, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, body := b.do(http.MethodPost, "/login", url.Values{"csrf": {b.csrf("/login")}, "token": {token}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("21st sign-in in a minute: %d %q, want 429 with a plain message", resp.StatusCode, body)
	}
	if b.home() {
		t.Fatal("the refused 21st sign-in signed in")
	}
	server.AdvanceClock(l.srv, time.Minute+time.Second)
	signedInTo(t, b.signIn(token))
}

// Sign-in and sign-out forms are refused when another site sends them, or
// without the form's CSRF token.
func TestLiveView_CrossSiteAndTokenlessFormsAreRefused(t *testing.T) {
	l := newLiveEnv(t)
	token := l.token(t, "admin")
	crossSite := []map[string]string{
		{"Origin": "https://evil.example", "Sec-Fetch-Site": ""},
		{"Origin": "null", "Sec-Fetch-Site": ""},
		{"Origin": "", "Sec-Fetch-Site": "", "Referer": "https://evil.example/page"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site", "Origin": "https://other.localhost"},
		{"Origin": "", "Sec-Fetch-Site": ""}, // no browser sends a form like this
	}
	b := l.browser(t)
	for _, h := range crossSite {
		resp, _ := b.do(http.MethodPost, "/login", url.Values{"csrf": {b.csrf("/login")}, "token": {token}}, h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	b.csrf("/login") // the form's cookie is set
	for name, form := range map[string]url.Values{
		"no CSRF token":    {"token": {token}},
		"wrong CSRF token": {"csrf": {"Rm9yZ2VkRm9yZ2VkRm9yZ2VkRm9yZ2VkRm9yZ2VkRm9yZ2V"}, "token": {token}},
	} {
		if resp, _ := b.do(http.MethodPost, "/login", form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with %s: %d, want 403", name, resp.StatusCode)
		}
	}
	if b.home() {
		t.Fatal("a refused sign-in signed in")
	}
	// Same origin, but the browser never loaded the form (no form cookie).
	fresh := l.browser(t)
	if resp, _ := fresh.do(http.MethodPost, "/login", url.Values{"csrf": {b.csrf("/login")}, "token": {token}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with another browser's CSRF token: %d, want 403", resp.StatusCode)
	}

	signedInTo(t, b.signIn(token))
	csrf := b.csrf("/")
	for _, h := range crossSite {
		if resp, _ := b.do(http.MethodPost, "/logout", url.Values{"csrf": {csrf}}, h); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	for name, form := range map[string]url.Values{"no CSRF token": {}, "wrong CSRF token": {"csrf": {csrf + "x"}}} {
		if resp, _ := b.do(http.MethodPost, "/logout", form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with %s: %d, want 403", name, resp.StatusCode)
		}
	}
	if !b.home() {
		t.Fatal("a refused sign-out ended the session")
	}
	if resp, _ := b.do(http.MethodPost, "/logout", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out from the page: %d, want 303", resp.StatusCode)
	}
	if b.home() {
		t.Fatal("signed out, yet the session still opens the live view")
	}
}

// TestHTTPError_EveryCode checks that the live view answers every error
// code rpcerr knows with its own status and message, and only an error
// without a code with a bare 500.
func TestHTTPError_EveryCode(t *testing.T) {
	want := map[framework.Code]int{
		framework.CodeInvalid:      http.StatusBadRequest,
		framework.CodeNotFound:     http.StatusNotFound,
		framework.CodeExists:       http.StatusConflict,
		framework.CodePrecondition: http.StatusConflict,
		framework.CodeConflict:     http.StatusConflict,
		framework.CodePermission:   http.StatusForbidden,
		framework.CodeUnauthorized: http.StatusUnauthorized,
	}
	// Every code there is must have a status here too.
	for _, fc := range framework.Codes() {
		if _, ok := want[fc]; !ok {
			t.Errorf("code %q has no expected HTTP status in this test", fc)
		}
	}
	for fc, status := range want {
		rec := httptest.NewRecorder()
		msg := "inspection I-1 is locked (" + string(fc) + ")"
		server.HTTPError(rec, fmt.Errorf("live view: %w", framework.Errorf(fc, "%s", msg)))
		if rec.Code != status || !strings.Contains(rec.Body.String(), msg) {
			t.Errorf("%s: status %d, body %q; want %d with the message", fc, rec.Code, rec.Body.String(), status)
		}
	}
	rec := httptest.NewRecorder()
	server.HTTPError(rec, errors.New("database is locked: /var/lib/fieldwork.db"))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "database") {
		t.Errorf("internal error: status %d, body %q; want 500 without the text", rec.Code, rec.Body.String())
	}
}

// The live view shows the report's figures, so it is open to exactly the
// roles that may read the report over the API (framework.CanReadReport):
// the lead, QA and analysts, not an inspector, who sees only their own
// cases. (QA could read the report but not open the live view before.)
func TestLiveView_OpenToWhoeverMayReadTheReport(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t)
	for _, tc := range []struct {
		user string
		role framework.Role
		may  bool
	}{
		{"lead.l", framework.RoleLead, true},
		{"qa.q", framework.RoleQA, true},
		{"analyst.n", framework.RoleAnalyst, true},
		{"insp.a", framework.RoleInspector, false},
	} {
		if tc.role != framework.RoleInspector {
			l.addMember(t, id, tc.user, string(tc.role))
		}
		token := l.token(t, tc.user)
		_, err := fieldworkv1.NewReportServiceClient(l.conn).GetReport(as(t.Context(), token), &fieldworkv1.GetReportRequest{InspectionId: id})
		if api := err == nil; api != tc.may {
			t.Errorf("%s (%s): GetReport err = %v, want allowed %v", tc.user, tc.role, err, tc.may)
		}
		b := l.browser(t)
		signedInTo(t, b.signIn(token))
		resp, _ := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
		if live := resp.StatusCode == http.StatusOK; live != tc.may {
			t.Errorf("%s (%s): live view %d, want allowed %v", tc.user, tc.role, resp.StatusCode, tc.may)
		}
		if !tc.may && resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s (%s): live view %d, want 403", tc.user, tc.role, resp.StatusCode)
		}
	}
}
