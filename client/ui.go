package client

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// UI is the inspector's offline web form, served by `fieldwork ui` on
// loopback from the local store. A session cookie (HttpOnly,
// SameSite=Strict) got by exchanging a one-time code (uisession.go) keeps
// other local users and other sites out; every write is a POST carrying a
// CSRF token and must come from the page's own origin.
//
// The form never holds an answer only in the page: each answer and note is
// saved to the local store (with its outbox op) as it is made, and every
// button that leaves the page posts what the page holds and saves it first.
type UI struct {
	c     *Client
	local *Offline
	user  string
	csrf  string
	// Now is the clock of codes and sessions (tests move it).
	Now func() time.Time

	sessions *sessions

	// saveMu makes each save one step: compare with the store, record,
	// remember the page's sequence number.
	saveMu sync.Mutex
	forms  map[string]*formSeq
	// syncMu runs one sync at a time (a second press of Sync now, or Submit
	// while a sync runs, waits for it rather than pushing the same outbox).
	syncMu sync.Mutex
	// second, when set, makes this the form of one case's second marking
	// (uisecond.go).
	second *secondTarget
}

// NewUI makes a UI over c's offline store (c need not be online) with
// fresh session secrets; user is the author of the answers saved.
func NewUI(c *Client, user string) *UI {
	return &UI{c: c, local: c.Offline(), user: user, csrf: randomHex(), Now: time.Now, sessions: newSessions(), forms: map[string]*formSeq{}}
}

func randomHex() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// caseURL is the one place a case's address is built: both parts are
// path-escaped, so a reference holding / ? # % or a space stays one
// segment (ServeMux matches segments before unescaping them).
func caseURL(inspectionID, ref string) string {
	return "/inspections/" + url.PathEscape(inspectionID) + "/cases/" + url.PathEscape(ref)
}

// Handler serves the UI.
func (u *UI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", u.startSession)
	mux.HandleFunc("POST /start", u.startSession)
	mux.HandleFunc("GET /cases", u.guard(u.casesPage))
	mux.HandleFunc("GET /inspections/{id}/cases/{ref}", u.guard(u.casePage))
	mux.HandleFunc("POST /inspections/{id}/cases/{ref}", u.guard(u.post(u.saveCase)))
	mux.HandleFunc("POST /inspections/{id}/cases/{ref}/autosave", u.guard(u.post(u.autosave)))
	mux.HandleFunc("GET /inspections/{id}/cases/{ref}/print", u.guard(u.printPage))
	mux.HandleFunc("POST /inspections/{id}/cases/{ref}/na", u.guard(u.post(u.markNA)))
	mux.HandleFunc("POST /inspections/{id}/cases/{ref}/submit", u.guard(u.post(u.submitCase)))
	mux.HandleFunc("POST /inspections/{id}/cases/{ref}/sync", u.guard(u.post(u.syncCase)))
	mux.HandleFunc("POST /sync", u.guard(u.post(u.sync)))
	mux.HandleFunc("GET /conflicts", u.guard(u.conflictsPage))
	mux.HandleFunc("POST /conflicts/{id}", u.guard(u.post(u.resolve)))
	mux.HandleFunc("GET /refused", u.guard(u.refusedPage))
	mux.HandleFunc("POST /refused/{op}", u.guard(u.post(u.settleRefused)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

func (u *UI) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !u.authed(r) {
			http.Error(w, signInHelp, http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

// post checks that a write comes from this page: same origin and the
// session's CSRF token.
func (u *UI) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			http.Error(w, "cross-site request refused", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if ou, err := url.Parse(o); err != nil || ou.Host != r.Host {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(u.csrf)) != 1 {
			http.Error(w, "missing or wrong form token: reload the page", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

type syncInfo struct {
	Pending, Conflicts, Refused int
	Last                        string
}

func (u *UI) page(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	ctx := r.Context()
	// The status bar tells the inspector what is not yet on the server: if
	// the store cannot say, the page is not shown with a reassuring 0.
	pending, err := u.local.PendingCount(ctx)
	var cs []framework.Conflict
	var rs []Rejection
	var last string
	if err == nil {
		cs, err = u.local.Conflicts(ctx, "", false)
	}
	if err == nil {
		rs, err = u.local.Rejections(ctx)
	}
	if err == nil {
		last, err = u.local.LastSync(ctx)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if last == "" {
		last = "never"
	} else if t, err := time.Parse(time.RFC3339, last); err == nil {
		last = t.Local().Format("2 Jan 15:04")
	}
	data["Sync"] = syncInfo{Pending: pending, Conflicts: len(cs), Refused: len(rs), Last: last}
	data["CSRF"] = u.csrf
	data["Back"] = r.URL.EscapedPath()
	if f := r.URL.Query().Get("flash"); f != "" {
		data["Flash"] = f
		data["FlashError"] = r.URL.Query().Get("err") == "1"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := uiTmpl.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

func redirectFlash(w http.ResponseWriter, r *http.Request, to, msg string, isErr bool) {
	q := url.Values{"flash": {msg}}
	if isErr {
		q.Set("err", "1")
	}
	http.Redirect(w, r, to+"?"+q.Encode(), http.StatusSeeOther)
}

type caseRow struct {
	Ref, Status, Sentence, Risk string
	Answered, Required          int
}

func (u *UI) casesPage(w http.ResponseWriter, r *http.Request) {
	if u.second != nil {
		http.Redirect(w, r, u.SecondCaseURL(), http.StatusSeeOther) // the one case this form marks
		return
	}
	ctx := r.Context()
	ins, err := u.local.Inspections(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	type inspection struct {
		ID, Name string
		Cases    []caseRow
	}
	var list []inspection
	for _, in := range ins {
		fw, err := u.local.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
		if err != nil {
			continue
		}
		// A store that cannot be read says so: an inspection shown with no
		// cases, or none answered, would be a wrong answer.
		cases, err := u.local.Cases(ctx, in.ID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answers, err := u.local.Answers(ctx, in.ID, "")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		byCase := map[string]map[string]string{}
		for _, a := range answers {
			if byCase[a.CaseRef] == nil {
				byCase[a.CaseRef] = map[string]string{}
			}
			byCase[a.CaseRef][a.QuestionID] = a.Value
		}
		item := inspection{ID: in.ID, Name: in.Name}
		for _, c := range cases {
			done, required := fw.Completeness(framework.CaseFacts(c.Attributes, byCase[c.Ref]))
			item.Cases = append(item.Cases, caseRow{Ref: c.Ref, Status: string(c.Status), Sentence: c.Attributes["sentence_type"], Risk: c.Attributes["rosh"],
				Answered: done, Required: required})
		}
		list = append(list, item)
	}
	u.page(w, r, "cases", map[string]any{"Title": "My cases", "Inspections": list})
}

func (u *UI) sync(w http.ResponseWriter, r *http.Request) {
	back := r.PostFormValue("back")
	// A local path only: "//host" and "/\host" are other sites to a browser.
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/cases"
	}
	msg, isErr := u.syncNow(r.Context())
	redirectFlash(w, r, back, msg, isErr)
}

// syncNow syncs and says how it went.
func (u *UI) syncNow(ctx context.Context) (msg string, isErr bool) {
	if !u.c.Online() {
		return "Working offline: no server configured (fieldwork login). Your answers are kept on this laptop.", true
	}
	u.syncMu.Lock()
	defer u.syncMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	res, err := u.c.Sync(ctx)
	if err != nil {
		return "Sync failed; your answers are kept on this laptop: " + err.Error(), true
	}
	return fmt.Sprintf("Synced: %d applied, %d conflict(s), %d rejected; %d change(s) received.", res.Applied, res.Conflicts, res.Rejected, res.Changes), res.Conflicts+res.Rejected > 0
}

func (u *UI) conflictsPage(w http.ResponseWriter, r *http.Request) {
	cs, err := u.local.Conflicts(r.Context(), "", false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	u.page(w, r, "conflicts", map[string]any{"Title": "Conflicts", "Conflicts": cs})
}

func (u *UI) resolve(w http.ResponseWriter, r *http.Request) {
	_, err := u.local.Resolve(r.Context(), u.user, Resolution{ConflictID: r.PathValue("id"), Choice: framework.Resolution(r.PostFormValue("choice")), Value: strings.TrimSpace(r.PostFormValue("value"))})
	if err != nil {
		redirectFlash(w, r, "/conflicts", err.Error(), true)
		return
	}
	redirectFlash(w, r, "/conflicts", "Resolution saved; it is sent on the next sync.", false)
}

func (u *UI) refusedPage(w http.ResponseWriter, r *http.Request) {
	rs, err := u.local.Rejections(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	u.page(w, r, "refused", map[string]any{"Title": "Refused edits", "Refused": rs})
}

// settleRefused records a refused edit again or dismisses it, as the
// inspector chose (fieldwork refused again|dismiss).
func (u *UI) settleRefused(w http.ResponseWriter, r *http.Request) {
	sel := RefusalSelector{OpID: r.PathValue("op")}
	switch r.PostFormValue("action") {
	case "again":
		if _, err := u.local.RecordAgain(r.Context(), u.user, sel); err != nil {
			redirectFlash(w, r, "/refused", err.Error(), true)
			return
		}
		redirectFlash(w, r, "/refused", "Recorded again; it is sent on the next sync.", false)
	case "dismiss":
		if _, err := u.local.Dismiss(r.Context(), sel); err != nil {
			redirectFlash(w, r, "/refused", err.Error(), true)
			return
		}
		redirectFlash(w, r, "/refused", "Dismissed; the server records it at the next sync.", false)
	default:
		redirectFlash(w, r, "/refused", "Choose Record it again or Dismiss it.", true)
	}
}

// refusal is what the form shows beside an answer the store would not
// record: a domain refusal in its own words (the page already names the
// case and the question), anything else whole.
func refusal(err error) string {
	var fe *framework.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
