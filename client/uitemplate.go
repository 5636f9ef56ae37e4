package client

import (
	"html/template"
	"net/url"
)

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
{{range .Questions}}<fieldset id="q-{{.ID}}" class="{{if not .Applies}}na{{end}}{{if .Msg}} invalid{{end}}" data-q="{{.ID}}"{{if .Applies}} tabindex="-1"{{end}}{{if .Waits}} data-waits{{end}}{{if .Hidden}} hidden disabled{{end}}>
<legend>{{if .Key}}{{.ID}} {{.Text}}{{else}}<span class="why">{{.Kind}}</span> {{.ID}} {{.Text}}{{end}}</legend>
{{if not .Applies}}<p class="why">Does not apply to this case: {{.Why}}.</p>
{{else}}{{if .Waits}}<p class="why stale" id="why-{{.ID}}"{{if or .Hidden (not .Why)}} hidden{{end}}>Not asked now: {{.Why}}. The answer below is kept but counts in no figure: choose Not applicable to clear it.</p>
{{end}}{{if .Msg}}<p class="msg" id="msg-{{.ID}}">{{.Msg}}</p>{{end}}
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
