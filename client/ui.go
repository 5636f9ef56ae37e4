package client

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
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

const uiStyle = `
:root { --ink:#1b1b1b; --muted:#595959; --rule:#c9c9c9; --focus:#ffbf47; --ok:#1d7a3a; --warn:#b35c00; --err:#b00020; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 60rem; padding: 1rem; }
a { color: #1d4f91; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
header.bar { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; border-bottom: 2px solid var(--ink); padding-bottom: .5rem; margin-bottom: 1rem; }
.flash { padding: .5rem .75rem; border-left: 5px solid var(--ok); background: #eef7ef; margin: .5rem 0; }
.flash.error { border-color: var(--err); background: #fbeaea; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; border-bottom: 1px solid var(--rule); padding: .35rem .4rem; }
progress { width: 8rem; height: 1rem; }
fieldset { border: 1px solid var(--rule); margin: .5rem 0; padding: .5rem .75rem; }
fieldset.na { color: var(--muted); background: #f4f4f4; }
fieldset.invalid { border: 2px solid var(--err); }
legend { font-weight: 600; padding: 0 .25rem; }
.choices label { margin-right: 1.25rem; white-space: nowrap; }
.choices input { transform: scale(1.2); margin-right: .3rem; }
textarea { width: 100%; font: inherit; min-height: 2.2rem; }
.why, .hint { color: var(--muted); font-size: .9rem; }
.msg { color: var(--err); font-weight: 600; }
h2 { margin-top: 1.5rem; border-bottom: 1px solid var(--ink); }
h3 { margin: 1rem 0 .25rem; font-size: 1.05rem; }
button { font: inherit; padding: .35rem .9rem; }
form.inline { display: inline; }
#save-status.error { color: var(--err); font-weight: 600; }
.sticky { position: sticky; bottom: 0; background: #fff; padding: .5rem 0; border-top: 1px solid var(--rule); }
`

var uiTmpl = template.Must(template.New("ui").Funcs(template.FuncMap{
	"caseURL":    caseURL,
	"pathEscape": url.PathEscape,
	"pct": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return a * 100 / b
	},
}).Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — fieldwork</title><style>` + uiStyle + `</style></head><body>
<header class="bar"><div><a href="/cases">My cases</a> · <a href="/conflicts">Conflicts ({{.Sync.Conflicts}})</a> · <a href="/refused">Refused edits ({{.Sync.Refused}})</a></div>
<div><span id="sync-status" role="status"><span id="unsynced">{{.Sync.Pending}}</span> unsynced · last sync {{.Sync.Last}}</span>
{{if .CaseURL}}<button type="submit" form="answers" formaction="{{.CaseURL}}/sync" accesskey="y">Sync now</button>
{{else}}<form method="post" action="/sync" class="inline"><input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="back" value="{{.Back}}">
<button type="submit" accesskey="y">Sync now</button></form>{{end}}</div></header>
{{with .Flash}}<p class="flash{{if $.FlashError}} error{{end}}" role="alert">{{.}}</p>{{end}}
{{end}}

{{define "cases"}}{{template "head" .}}
<h1>My cases</h1>
{{range .Inspections}}<h2>{{.Name}}</h2>
<table><thead><tr><th scope="col">Case</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Sentence</th><th scope="col">Risk</th></tr></thead><tbody>
{{$id := .ID}}{{range .Cases}}<tr><td><a href="{{caseURL $id .Ref}}">{{.Ref}}</a></td><td>{{.Status}}</td>
<td><progress max="{{.Required}}" value="{{.Answered}}" aria-label="{{.Ref}}: {{.Answered}} of {{.Required}} answered"></progress> {{.Answered}}/{{.Required}}</td>
<td>{{.Sentence}}</td><td>{{.Risk}}</td></tr>{{end}}
</tbody></table>{{else}}<p>No cases on this laptop yet: press Sync now while online.</p>{{end}}
</body></html>{{end}}

{{define "case"}}{{template "head" .}}
<h1>Case {{.Case.Ref}}</h1>
<p class="hint">{{.Case.Status}} · {{.Answered}} of {{.Required}} applicable questions answered. Keys: on a question, press <kbd>y</kbd>, <kbd>n</kbd> or <kbd>a</kbd> (not applicable); <kbd>Alt</kbd>+<kbd>S</kbd> saves.</p>
<form method="post" action="{{.CaseURL}}" id="answers" novalidate data-autosave="{{.CaseURL}}/autosave"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="form_id" value="{{.FormID}}"><input type="hidden" name="seq" value="">
{{range .Groups}}<h2>{{.Title}}</h2>
{{range .Questions}}<fieldset id="q-{{.ID}}" class="{{if not .Applies}}na{{end}}{{if .Msg}} invalid{{end}}" data-q="{{.ID}}"{{if .Applies}} tabindex="-1"{{end}}>
<legend>{{if .Key}}{{.ID}} {{.Text}}{{else}}<span class="why">{{.Kind}}</span> {{.ID}} {{.Text}}{{end}}</legend>
{{if not .Applies}}<p class="why">Does not apply to this case: {{.Why}}.</p>
{{else}}{{if .Msg}}<p class="msg" id="msg-{{.ID}}">{{.Msg}}</p>{{end}}
{{if .Count}}<label for="v-{{.ID}}">Number</label> <input id="v-{{.ID}}" name="v-{{.ID}}" type="number" min="{{.Min}}" step="1" value="{{.Value}}" inputmode="numeric"{{if .Msg}} aria-describedby="msg-{{.ID}}" aria-invalid="true"{{end}}>
{{else}}<div class="choices">
<label><input type="radio" name="v-{{.ID}}" value="yes"{{if eq .Value "yes"}} checked{{end}}>Yes</label>
<label><input type="radio" name="v-{{.ID}}" value="no"{{if eq .Value "no"}} checked{{end}}>No</label>
<label><input type="radio" name="v-{{.ID}}" value="na"{{if eq .Value "na"}} checked{{end}}>Not applicable</label>
</div>{{end}}
<label for="n-{{.ID}}" class="hint">Evidence note</label>
<textarea id="n-{{.ID}}" name="n-{{.ID}}" rows="1">{{.Note}}</textarea>{{end}}
</fieldset>{{end}}{{end}}
<div class="sticky"><button type="submit" accesskey="s">Save answers</button>
<button type="submit" formaction="{{.CaseURL}}/submit">Submit case</button>
<span id="save-status" role="status" class="hint"></span></div>
</form>
<script>` + autosaveJS + `</script>
</body></html>{{end}}

{{define "conflicts"}}{{template "head" .}}
<h1>Conflicts</h1>
<p class="hint">Someone else changed these answers before your edit reached the server. The server kept its value; choose what stands.</p>
{{range .Conflicts}}<form method="post" action="/conflicts/{{pathEscape .ID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<fieldset><legend>Case {{.CaseRef}} question {{.QuestionID}}</legend>
<p>Server: <strong>{{.ServerValue}}</strong>{{with .ServerNote}} — “{{.}}”{{end}} · Refused edit by {{.ClientUser}}: <strong>{{.ClientValue}}</strong>{{with .ClientNote}} — “{{.}}”{{end}} · {{.CreatedAt.Format "2006-01-02 15:04"}}</p>
<button type="submit" name="choice" value="mine">Keep the refused edit ({{.ClientValue}})</button>
<button type="submit" name="choice" value="theirs">Keep the server's value ({{.ServerValue}})</button>
<label for="v-{{.ID}}">or a new value</label> <input id="v-{{.ID}}" name="value" size="6">
<button type="submit" name="choice" value="value">Use the new value</button>
</fieldset></form>{{else}}<p>No open conflicts on this laptop.</p>{{end}}
</body></html>{{end}}

{{define "refused"}}{{template "head" .}}
<h1>Refused edits</h1>
<p class="hint">The server refused these edits; the case shows the server's answer meanwhile. Each stays here, with the note you typed, until you record it again or dismiss it (a dismissal is recorded on the server at the next sync).</p>
{{range .Refused}}<form method="post" action="/refused/{{pathEscape .OpID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<fieldset><legend>Case {{.CaseRef}} question {{.QuestionID}}</legend>
<p>Your edit: <strong>{{.Value}}</strong>{{with .Note}} — “{{.}}”{{end}} · refused {{.At.Local.Format "2006-01-02 15:04"}} ({{.Code}}): {{.Reason}}</p>
<button type="submit" name="action" value="again">Record it again</button>
<button type="submit" name="action" value="dismiss">Dismiss it</button>
</fieldset></form>{{else}}<p>No refused edits on this laptop.</p>{{end}}
</body></html>{{end}}`))

type syncInfo struct {
	Pending, Conflicts, Refused int
	Last                        string
}

func (u *UI) page(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	ctx := r.Context()
	pending, _ := u.local.PendingCount(ctx)
	cs, _ := u.local.Conflicts(ctx, "", false)
	rs, _ := u.local.Rejections(ctx)
	last, _ := u.local.LastSync(ctx)
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
		cases, _ := u.local.Cases(ctx, in.ID)
		answers, _ := u.local.Answers(ctx, in.ID, "")
		byCase := map[string]map[string]bool{}
		for _, a := range answers {
			if byCase[a.CaseRef] == nil {
				byCase[a.CaseRef] = map[string]bool{}
			}
			byCase[a.CaseRef][a.QuestionID] = true
		}
		item := inspection{ID: in.ID, Name: in.Name}
		for _, c := range cases {
			required := 0
			for _, q := range fw.Questions() {
				if ok, _ := q.AppliesTo(c.Attributes); ok {
					required++
				}
			}
			missing := fw.Missing(c.Attributes, byCase[c.Ref])
			item.Cases = append(item.Cases, caseRow{Ref: c.Ref, Status: c.Status, Sentence: c.Attributes["sentence_type"], Risk: c.Attributes["rosh"],
				Answered: required - len(missing), Required: required})
		}
		list = append(list, item)
	}
	u.page(w, r, "cases", map[string]any{"Title": "My cases", "Inspections": list})
}

type uiQuestion struct {
	ID, Text, Kind, Value, Note, Why, Msg string
	Key, Applies, Count                   bool
	Min                                   int64
}

type uiGroup struct {
	Title     string
	Questions []uiQuestion
}

func (u *UI) loadCase(ctx context.Context, id, ref string) (*framework.Framework, framework.Case, map[string]framework.Answer, error) {
	in, err := u.local.Inspection(ctx, id)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	fw, err := u.local.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	cases, err := u.local.Cases(ctx, id)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	for _, c := range cases {
		if c.Ref == ref {
			as, err := u.local.Answers(ctx, id, ref)
			if err != nil {
				return nil, c, nil, err
			}
			m := map[string]framework.Answer{}
			for _, a := range as {
				m[a.QuestionID] = a
			}
			return fw, c, m, nil
		}
	}
	return nil, framework.Case{}, nil, framework.Errorf(framework.CodeNotFound, "case %s is not on this laptop", ref)
}

func (u *UI) casePage(w http.ResponseWriter, r *http.Request) {
	u.renderCase(w, r, nil, nil)
}

// renderCase shows the case form; pending and msgs carry a failed save's
// inputs and messages so nothing typed is lost.
func (u *UI) renderCase(w http.ResponseWriter, r *http.Request, pending map[string][2]string, msgs map[string]string) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	fw, c, answers, err := u.loadCase(r.Context(), id, ref)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var groups []uiGroup
	answered, required := 0, 0
	add := func(title string, qs []*framework.Question) {
		g := uiGroup{Title: title}
		for _, q := range qs {
			applies, why := q.AppliesTo(c.Attributes)
			a := answers[q.ID]
			uq := uiQuestion{ID: q.ID, Text: q.Text, Kind: q.Kind, Value: a.Value, Note: a.Note, Why: why, Key: q.Kind == framework.QuestionKey,
				Applies: applies, Count: q.Type == framework.TypeCount, Msg: msgs[q.ID]}
			if q.Min != nil {
				uq.Min = *q.Min
			}
			if p, ok := pending[q.ID]; ok {
				uq.Value, uq.Note = p[0], p[1]
			}
			if applies {
				required++
				if a.Value != "" {
					answered++
				}
			}
			g.Questions = append(g.Questions, uq)
		}
		groups = append(groups, g)
	}
	for _, s := range fw.Standards() {
		if s.Kind != framework.KindCaseRated {
			continue
		}
		var qs []*framework.Question
		for _, kq := range s.KeyQuestions {
			qs = append(qs, kq)
			qs = append(qs, kq.Prompts...)
		}
		add(s.ID+" "+s.Title, append(qs, s.Supplementary...))
	}
	if len(fw.Supplementary) > 0 {
		add("Supplementary questions", fw.Supplementary)
	}
	if len(msgs) > 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	u.page(w, r, "case", map[string]any{"Title": "Case " + ref, "Case": c, "CaseURL": caseURL(id, ref), "FormID": u.newForm(answers),
		"Groups": groups, "Answered": answered, "Required": required})
}

// formSeq orders the saves of one rendered case page. The page numbers its
// saves; saves can arrive out of order (an autosave still in flight when a
// button posts the page, a beacon sent as the tab closes), and an answer is
// only ever replaced by a later save of the same page.
type formSeq struct {
	made time.Time
	last map[string]int64 // question → sequence number of the save that last carried it
	// shown is each answer (value, note) as the page knows it: as stored
	// when it was rendered, then as its own saves left it. An answer the
	// store holds otherwise was changed under the page (a sync pulled
	// someone else's, another tab saved one): the page may not overwrite
	// it unseen.
	shown map[string][2]string
}

// maxForms bounds the remembered pages; the oldest go first.
const maxForms = 1000

// newForm registers a freshly rendered case page and returns its id.
func (u *UI) newForm(answers map[string]framework.Answer) string {
	id := randomHex()[:32]
	u.saveMu.Lock()
	defer u.saveMu.Unlock()
	if len(u.forms) >= maxForms {
		oldest := ""
		for k, f := range u.forms {
			if oldest == "" || f.made.Before(u.forms[oldest].made) {
				oldest = k
			}
		}
		delete(u.forms, oldest)
	}
	shown := make(map[string][2]string, len(answers))
	for q, a := range answers {
		shown[q] = [2]string{a.Value, a.Note}
	}
	u.forms[id] = &formSeq{made: u.Now(), last: map[string]int64{}, shown: shown}
	return id
}

// saveResult is what saving a posted case form did.
type saveResult struct {
	Saved int `json:"saved"`
	// Pending holds the inputs not saved (value, note), Msgs why, by question.
	Pending map[string][2]string `json:"-"`
	Msgs    map[string]string    `json:"errors"`
	// Unsynced is the outbox's length after the save.
	Unsynced int `json:"unsynced"`
}

// saveForm is the one save of the case form, used by Save, autosave, Sync
// now and Submit alike: every applicable question the form carries
// (v-ID value, n-ID note) whose answer or note differs from the local store
// is recorded there, with its outbox op, exactly as `fieldwork answer`
// does. A question the form does not carry is left alone, so the page may
// send only what changed. An input that cannot be saved is returned with
// the reason, never dropped unsaid.
func (u *UI) saveForm(ctx context.Context, id, ref string, form url.Values) (saveResult, error) {
	u.saveMu.Lock()
	defer u.saveMu.Unlock()
	res := saveResult{Pending: map[string][2]string{}, Msgs: map[string]string{}}
	fw, c, answers, err := u.loadCase(ctx, id, ref)
	if err != nil {
		return res, err
	}
	seq, _ := strconv.ParseInt(form.Get("seq"), 10, 64)
	page := u.forms[form.Get("form_id")]
	order := page
	if seq <= 0 {
		order = nil // a page without script: every post is the newest
	}
	for _, q := range fw.Questions() {
		vs, hasV := form["v-"+q.ID]
		ns, hasN := form["n-"+q.ID]
		if !hasV && !hasN {
			continue
		}
		if ok, _ := q.AppliesTo(c.Attributes); !ok {
			continue
		}
		if order != nil {
			if order.last[q.ID] > seq {
				continue // a later save of this page already carried it
			}
			order.last[q.ID] = seq
		}
		var v, note string
		if len(vs) > 0 {
			v = strings.TrimSpace(vs[0])
		}
		cur := answers[q.ID]
		if page != nil {
			known := page.shown[q.ID] // ("", "") for a question unanswered when shown
			if known != [2]string{cur.Value, cur.Note} {
				pv, pn := known[0], known[1] // what the page posts, where it posts nothing
				if hasV && len(vs) > 0 {
					pv = v
				}
				if hasN && len(ns) > 0 {
					pn = ns[0]
				}
				switch {
				case pv == known[0] && pn == known[1]:
					continue // not changed on this page: the newer answer stands
				case pv == cur.Value && pn == cur.Note:
					page.shown[q.ID] = [2]string{cur.Value, cur.Note} // the page now says what the store does
					continue
				}
				res.Pending[q.ID] = [2]string{pv, pn}
				now := "no answer"
				if cur.Value != "" {
					now = fmt.Sprintf("%s, by %s", cur.Value, cur.UpdatedBy)
				}
				res.Msgs[q.ID] = fmt.Sprintf("This answer changed since the page was opened (now %s): reload the page to see it, then change it if you still mean to.", now)
				continue
			}
		}
		note = cur.Note
		if hasN && len(ns) > 0 {
			note = ns[0]
		}
		if v == "" {
			switch {
			case cur.Value == "" && strings.TrimSpace(note) != "" && note != cur.Note:
				res.Pending[q.ID] = [2]string{v, note}
				res.Msgs[q.ID] = "Choose an answer to keep this note: a note is saved with its answer."
			case cur.Value != "" && (hasV || note != cur.Note):
				res.Pending[q.ID] = [2]string{v, note}
				res.Msgs[q.ID] = fmt.Sprintf("An answer cannot be removed, only changed (the saved answer is %s; na if the question does not apply).", cur.Value)
			}
			continue
		}
		if v == cur.Value && note == cur.Note {
			continue
		}
		op, err := u.local.Record(ctx, u.user, Edit{InspectionID: id, CaseRef: ref, QuestionID: q.ID, Value: v, Note: note})
		if err != nil {
			res.Pending[q.ID] = [2]string{v, note}
			res.Msgs[q.ID] = refusal(err)
			continue
		}
		if page != nil {
			page.shown[q.ID] = [2]string{op.Value, op.Note}
		}
		res.Saved++
	}
	res.Unsynced, _ = u.local.PendingCount(ctx)
	return res, nil
}

// saveAndRender saves the posted case form. If some input could not be
// saved it shows the form again with it and the reasons, flash(res) as the
// page's message, and returns false.
func (u *UI) saveAndRender(w http.ResponseWriter, r *http.Request, flash func(saveResult) string) (saveResult, bool) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	res, err := u.saveForm(r.Context(), id, ref, r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return res, false
	}
	if len(res.Msgs) == 0 {
		return res, true
	}
	r.URL.RawQuery = url.Values{"flash": {flash(res)}, "err": {"1"}}.Encode()
	u.renderCase(w, r, res.Pending, res.Msgs)
	return res, false
}

func (u *UI) saveCase(w http.ResponseWriter, r *http.Request) {
	res, ok := u.saveAndRender(w, r, func(res saveResult) string {
		return fmt.Sprintf("Saved %d answer(s); %d need attention (marked below).", res.Saved, len(res.Msgs))
	})
	if ok {
		redirectFlash(w, r, caseURL(r.PathValue("id"), r.PathValue("ref")), fmt.Sprintf("Saved %d answer(s) on this laptop. They are sent on the next sync.", res.Saved), false)
	}
}

// autosave is the page's save as each answer or note is made: the same
// save as the Save button, answered in JSON for the page to show.
func (u *UI) autosave(w http.ResponseWriter, r *http.Request) {
	res, err := u.saveForm(r.Context(), r.PathValue("id"), r.PathValue("ref"), r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func (u *UI) submitCase(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	back := caseURL(id, ref)
	// Save what the page holds first (the page saves as it goes; this is
	// the fallback when it could not), so nothing on it is lost and the
	// server judges completeness on everything.
	if _, ok := u.saveAndRender(w, r, func(res saveResult) string {
		return fmt.Sprintf("Not submitted: %d answer(s) need attention (marked below); %d saved.", len(res.Msgs), res.Saved)
	}); !ok {
		return
	}
	u.syncMu.Lock()
	defer u.syncMu.Unlock()
	if !u.c.Online() {
		redirectFlash(w, r, back, "Your answers are saved on this laptop, but submitting needs the server: you are working offline.", true)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), CallTimeout)
	defer cancel()
	if _, err := u.c.SetCaseStatus(ctx, id, ref, framework.CaseSubmitted, ""); err != nil {
		var first *SyncFirstError
		if errors.As(err, &first) {
			redirectFlash(w, r, back, "Your answers are saved on this laptop, but the server could not be reached to submit: "+first.Err.Error(), true)
			return
		}
		redirectFlash(w, r, back, "Not submitted: "+err.Error(), true)
		return
	}
	redirectFlash(w, r, back, "Case submitted.", false)
}

// syncCase is Sync now pressed on a case page: the button posts the page,
// which is saved first, so an answer just made is in what is sent.
func (u *UI) syncCase(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	res, err := u.saveForm(r.Context(), id, ref, r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	msg, isErr := u.syncNow(r.Context())
	if len(res.Msgs) > 0 {
		r.URL.RawQuery = url.Values{"flash": {fmt.Sprintf("%s %d answer(s) need attention (marked below): they are not saved yet.", msg, len(res.Msgs))}, "err": {"1"}}.Encode()
		u.renderCase(w, r, res.Pending, res.Msgs)
		return
	}
	redirectFlash(w, r, caseURL(id, ref), msg, isErr)
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
	_, err := u.local.Resolve(r.Context(), u.user, Resolution{ConflictID: r.PathValue("id"), Choice: r.PostFormValue("choice"), Value: strings.TrimSpace(r.PostFormValue("value"))})
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
