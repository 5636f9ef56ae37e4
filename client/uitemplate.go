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
/* The sticky bar never covers what is scrolled to or focused (the page's
   script sets the padding to the bar's height as it is). */
html { scroll-padding-top: 1rem; scroll-padding-bottom: 7rem; }
.todo-mark { color: #8a4600; font-size: .9rem; font-weight: 600; margin-left: .4rem; }
fieldset.todo { border-left: 4px solid #8a4600; }
.summary { border: 3px solid var(--err); padding: .25rem 1rem .5rem; margin: .75rem 0; }
.summary h2 { border: 0; margin-top: .25rem; font-size: 1.1rem; }
.attrs { display: flex; flex-wrap: wrap; gap: .15rem 1.5rem; margin: .5rem 0; padding: 0; }
.attrs div { display: flex; gap: .4rem; }
.attrs dt { color: var(--muted); }
.attrs dd { margin: 0; font-weight: 600; }
.readonly { border-color: var(--warn); background: #fff4e5; }
button.na-all, button.change { font-size: .9rem; padding: .15rem .6rem; margin: .2rem 0; }
.keep { background: #fff4e5; border-left: 5px solid var(--warn); padding: .4rem .6rem; margin: .4rem 0; }
.print td, .print th { vertical-align: top; }
@media print { header.bar, .noprint { display: none; } body { max-width: none; } }
`

var uiTmpl = template.Must(template.New("ui").Funcs(template.FuncMap{
	"caseURL":    caseURL,
	"pathEscape": url.PathEscape,
	"answerWord": answerWord,
	"pct": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return a * 100 / b
	},
}).Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — fieldwork</title><style>` + uiStyle + `</style></head><body>
<header class="bar"><nav aria-label="fieldwork"><a href="/cases">My cases</a> · <a href="/conflicts">Conflicts ({{.Sync.Conflicts}})</a> · <a href="/refused">Refused edits ({{.Sync.Refused}})</a></nav>
<div><span id="sync-status" role="status"><span id="unsynced">{{.Sync.Pending}}</span> unsynced · last sync {{.Sync.Last}}</span>
{{if .CaseURL}}<button type="submit" form="answers" formaction="{{.CaseURL}}/sync" id="sync-now" accesskey="c" aria-keyshortcuts="Alt+C">Sync now</button>
{{else}}<form method="post" action="/sync" class="inline"><input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="back" value="{{.Back}}">
<button type="submit" id="sync-now" accesskey="c" aria-keyshortcuts="Alt+C">Sync now</button></form>{{end}}</div></header>
<main id="main">
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
</main></body></html>{{end}}

{{define "case"}}{{template "head" .}}
<h1>Case {{.Case.Ref}}{{if .Second}}: second marking{{end}}</h1>
{{if .Second}}<p class="hint" id="second">Your second marking of this case: saved apart from the case's answers, and counted in no figure.</p>{{end}}
{{if .ReadOnly}}<p class="flash readonly" id="readonly"><strong>Read-only.</strong> {{.ReadOnly}}</p>{{end}}
{{template "attrs" .}}
<p class="hint">{{.Case.Status}} · {{.Answered}} of {{.Required}} applicable questions answered · <a href="{{.CaseURL}}/print">Printable view</a></p>
{{if .Problems}}<div class="summary" id="problems" role="alert"><h2>{{len .Problems}} answer(s) need attention</h2><ul>
{{range $i, $p := .Problems}}<li><a href="#q-{{.ID}}"{{if eq $i 0}} autofocus{{end}}>{{.ID}} {{.Text}}</a>: {{.Msg}}</li>{{end}}</ul></div>
{{else if .Missing}}<div class="summary" id="problems"><h2>{{len .Missing}} question(s) to answer before this case can be submitted</h2><ul>
{{range $i, $p := .Missing}}<li><a href="#q-{{.ID}}"{{if eq $i 0}} autofocus{{end}}>{{.ID}} {{.Text}}</a></li>{{end}}</ul></div>{{end}}
{{if not .ReadOnly}}<p class="hint" id="keys">Keys on a question: <kbd>y</kbd> Yes, <kbd>n</kbd> No, <kbd>a</kbd> Not applicable — they answer a question not yet answered, and the cursor goes to its note; <kbd>Enter</kbd> or <kbd>Tab</kbd> in a note goes to the next question (<kbd>Shift</kbd>+<kbd>Enter</kbd>: a new line); <kbd>u</kbd> goes to the next unanswered question (<kbd>Alt</kbd>+<kbd>U</kbd> from anywhere). To change an answer, click the other choice or press Change answer. <kbd>Alt</kbd>+<kbd>S</kbd> saves, <kbd>Alt</kbd>+<kbd>C</kbd> syncs.</p>{{end}}
<form method="post" action="{{.CaseURL}}" id="answers" novalidate data-autosave="{{.CaseURL}}/autosave"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="form_id" value="{{.FormID}}"><input type="hidden" name="seq" value=""><input type="hidden" name="at" value="">
{{range .Groups}}<h2 id="s-{{.ID}}">{{.Title}}</h2>
{{if and .ID (not $.ReadOnly)}}<button type="submit" class="na-all" name="na" value="{{.ID}}" formaction="{{$.CaseURL}}/na">Mark every unanswered question of {{.ID}} not applicable</button>{{end}}
{{range .Questions}}<fieldset id="q-{{.ID}}" class="{{if not .Applies}}na{{end}}{{if .Msg}} invalid{{end}}{{if .Todo}} todo{{end}}" data-q="{{.ID}}" data-saved="{{.Saved}}"{{if .Applies}} tabindex="-1"{{end}}{{if .Waits}} data-waits{{end}}{{if .Hidden}} hidden{{end}}{{if or .Hidden $.ReadOnly}} disabled{{end}}>
<legend>{{if .Key}}{{.ID}} {{.Text}}{{else}}<span class="why">{{.Kind}}</span> {{.ID}} {{.Text}}{{end}}{{if .Applies}}<span class="todo-mark"{{if not .Todo}} hidden{{end}}>Unanswered (required)</span>{{end}}</legend>
{{if not .Applies}}<p class="why">Does not apply to this case: {{.Why}}.</p>
{{else}}{{if .Waits}}<p class="why stale" id="why-{{.ID}}"{{if or .Hidden (not .Why)}} hidden{{end}}>Not asked now: {{.Why}}. The answer below is kept but counts in no figure: choose Not applicable to clear it.</p>
{{end}}{{if .Msg}}<p class="msg" id="msg-{{.ID}}">{{.Msg}}</p>{{end}}
{{if and .Key (not $.ReadOnly)}}<button type="submit" class="na-all" name="na" value="{{.ID}}" formaction="{{$.CaseURL}}/na">Mark {{.ID}} and its {{.Prompts}} prompt(s) not applicable</button>{{end}}
{{if .Count}}<label for="v-{{.ID}}">Number</label> <input id="v-{{.ID}}" name="v-{{.ID}}" type="number" min="{{.Min}}" step="1" value="{{.Value}}" inputmode="numeric"{{if .Msg}} aria-describedby="msg-{{.ID}}" aria-invalid="true"{{end}}>
{{else}}<div class="choices">
<label><input type="radio" id="v-{{.ID}}-yes" name="v-{{.ID}}" value="yes"{{if eq .Value "yes"}} checked{{end}}>Yes</label>
<label><input type="radio" id="v-{{.ID}}-no" name="v-{{.ID}}" value="no"{{if eq .Value "no"}} checked{{end}}>No</label>
<label><input type="radio" id="v-{{.ID}}-na" name="v-{{.ID}}" value="na"{{if eq .Value "na"}} checked{{end}}>Not applicable</label>
</div>{{end}}{{if not $.ReadOnly}}<button type="button" class="change" hidden>Change answer</button>{{end}}
<label for="n-{{.ID}}" class="hint">Evidence note</label>
<textarea id="n-{{.ID}}" name="n-{{.ID}}" rows="1">{{.Note}}</textarea>{{end}}
</fieldset>{{end}}{{end}}
{{if not .ReadOnly}}<div class="sticky" id="bar"><button type="submit" accesskey="s" aria-keyshortcuts="Alt+S">Save answers</button>
<button type="submit" formaction="{{.CaseURL}}/submit" id="submit">{{if .Second}}Submit second marking{{else}}Submit case{{end}}</button>
<button type="button" id="next-todo" accesskey="u" aria-keyshortcuts="Alt+U u" hidden>Next unanswered</button> <span id="todo-count" class="hint"></span>
<span id="save-status" role="status" class="hint"></span></div>{{end}}
</form>
{{if not .ReadOnly}}<script>` + autosaveJS + keysJS + `</script>{{end}}
</main></body></html>{{end}}

{{define "attrs"}}<dl class="attrs">{{range .Attrs}}<div><dt>{{.Title}}</dt><dd>{{.Value}}</dd></div>{{end}}<div><dt>Assigned to</dt><dd>{{.Case.Inspector}}</dd></div></dl>{{end}}

{{define "print"}}{{template "head" .}}
<h1>Case {{.Case.Ref}}: {{if .Second}}second marking, {{end}}answers and notes</h1>
<p>{{.Inspection.Name}} · {{.Case.Status}} · {{.Answered}} of {{.Required}} applicable questions answered · as held on this laptop (last sync {{.Sync.Last}}) <a href="{{.CaseLink}}" class="noprint">Back to the case</a></p>
{{template "attrs" .}}
{{range .Groups}}<h2>{{.Title}}</h2>
<table class="print"><thead><tr><th scope="col">Question</th><th scope="col">Answer</th><th scope="col">Evidence note</th><th scope="col">By, when</th></tr></thead><tbody>
{{range .Questions}}<tr id="p-{{.ID}}"><td>{{.ID}} {{.Text}}</td><td>{{if not .Applies}}does not apply{{else if .Hidden}}not asked{{if .Value}} ({{answerWord .Value}}){{end}}{{else}}{{answerWord .Value}}{{end}}</td><td>{{.Note}}</td><td>{{.By}}{{with .At}}, {{.}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
</main></body></html>{{end}}

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
</main></body></html>{{end}}

{{define "refused"}}{{template "head" .}}
<h1>Refused edits</h1>
<p class="hint">The server refused these edits; the case shows the server's answer meanwhile. Each stays here, with the note you typed, until you record it again or dismiss it (a dismissal is recorded on the server at the next sync).</p>
{{range .Refused}}<form method="post" action="/refused/{{pathEscape .OpID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<fieldset><legend>Case {{.CaseRef}} question {{.QuestionID}}</legend>
<p>Your edit: <strong>{{.Value}}</strong>{{with .Note}} — “{{.}}”{{end}} · refused {{.At.Local.Format "2006-01-02 15:04"}} ({{.Code}}): {{.Reason}}</p>
<button type="submit" name="action" value="again">Record it again</button>
<button type="submit" name="action" value="dismiss">Dismiss it</button>
</fieldset></form>{{else}}<p>No refused edits on this laptop.</p>{{end}}
</main></body></html>{{end}}`))

// answerWord is a stored answer in words.
func answerWord(v string) string {
	switch v {
	case "yes":
		return "Yes"
	case "no":
		return "No"
	case "na":
		return "Not applicable"
	case "":
		return "unanswered"
	}
	return v
}
