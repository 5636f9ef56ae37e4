package server

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Every page of the live view is drawn in one layout: a skip link, a
// header with the navigation (the inspections, the pooled view, the way
// back from an evidence or table page, sign out), one main landmark, and
// on the live pages the script that keeps them up to date (weblive.go).
// Pages are ordinary links and forms first: everything works by keyboard
// and without JavaScript, which only adds the updates in place.

// webView is what the layout draws: the page's navigation and its body
// (the "main" template of each page).
type webView struct {
	Title string
	Nav   *webNav // nil on the sign-in page
	CSS   template.CSS
	Body  any
}

// webNav is the header's navigation for a signed-in user.
type webNav struct {
	User, CSRF string
	// Here is the page the user is on: "list", "inspection", "pooled",
	// "evidence" or "table" (its link is marked aria-current).
	Here string
	// Live is the live page this one belongs to ("" on the list), and
	// LiveName what the link to it says.
	Live, LiveName string
	// Pooled is the pooled view's URL when on one of its pages.
	Pooled string
	// Back is the way back from an evidence or table page to the figure
	// or table it shows, and BackText what its link says.
	Back, BackText string
}

var webFuncs = template.FuncMap{
	"path":      url.PathEscape,
	"when":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"tbody":     func(t report.Table) template.HTML { return report.RowsHTML(t, false) },
	"isnum":     func(k report.Kind) bool { return k != report.Text },
	"maxInline": func() int { return maxInlineRows },
	"every":     func() int { return liveEveryMillis },
	"inc":       func(i int) int { return i + 1 },
	// more says how many of a list are shown, when not all are.
	"more": func(shown, total int) *struct{ Shown, Total int } {
		if shown >= total {
			return nil
		}
		return &struct{ Shown, Total int }{shown, total}
	},
}

var webLayout = template.Must(template.New("layout").Funcs(webFuncs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — fieldwork live view</title>
<style>{{.CSS}}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
/* White text on every rating colour at 4.5:1 or more (WCAG 2.2 AA). */
:root{--good:#3b7a27;--ri:#a35200}
.r-none{background:#595959}svg rect.r-none{fill:#595959}
.r-good,.r-ri,.r-none{color:#fff}
.skip{position:absolute;left:-9999px;top:.5rem;background:#fff;color:#0b0c0c;padding:.5rem 1rem;border:2px solid #0b0c0c;z-index:10}
.skip:focus{left:.5rem}
a{color:#1d4f91}a:visited{color:#4c2c92}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid #ffbf47;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}
header.site{border-bottom:2px solid #0b0c0c;margin:0 0 1.5rem;padding:0 0 .5rem}
header.site p{margin:0 0 .4rem;color:#333}
header.site nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center}
header.site nav a[aria-current]{font-weight:700;color:#0b0c0c}
header.site form{display:inline;margin:0}
button{font:inherit;padding:.3rem .9rem;border:2px solid #0b0c0c;background:#f3f2f1;color:#0b0c0c;cursor:pointer}
input{font:inherit}
.live-controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;background:#f3f2f1;padding:.5rem .75rem;margin:0 0 1rem}
.live-controls p{margin:0}
ul.summary{padding-left:1.2rem}ul.summary li{margin:.2rem 0}
.count-0{color:#333}
.err{color:#a00}
td.note{white-space:pre-wrap}
</style></head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="site">
<p>fieldwork live view{{with .Nav}} — Signed in as {{.User}}{{end}}</p>
{{with .Nav}}<nav aria-label="Live view">
<ul>
<li><a href="/"{{if eq .Here "list"}} aria-current="page"{{end}}>All inspections</a></li>
{{if .Live}}<li><a href="{{.Live}}"{{if eq .Here "inspection" "pooled"}} aria-current="page"{{end}}>{{.LiveName}}</a></li>{{end}}
{{if .Back}}<li><a href="{{.Back}}">{{.BackText}}</a></li>{{end}}
{{if not .Pooled}}<li><a href="/#pool">Pooled view (choose inspections)</a></li>{{end}}
<li><form method="post" action="/logout" class="signout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form></li>
</ul>
</nav>{{end}}
</header>
<main id="main" tabindex="-1">
{{template "main" .}}
</main>
{{block "script" .}}{{end}}
</body></html>
{{define "rows"}}<table>
<thead><tr>{{range .Columns}}<th scope="col"{{if isnum .Kind}} class="num"{{end}}>{{.Name}}</th>{{end}}</tr></thead>
<tbody>
{{tbody .}}</tbody>
</table>{{end}}`))

// webPage is the layout with a page's own "main" (and "script") templates.
func webPage(body string) *template.Template {
	return template.Must(template.Must(webLayout.Clone()).Parse(body))
}

// render draws a page of the layout; a template error is logged (the
// response has begun), as every page of the live view did.
func (s *Server) render(w http.ResponseWriter, t *template.Template, v webView) {
	v.CSS = report.FiguresCSS()
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		s.log.Error("live view page", "page", v.Title, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

var loginTmpl = webPage(`{{define "main"}}<h1>Sign in</h1>
{{with .Body}}{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<p><label for="token">Access token</label><br>
<input id="token" name="token" type="password" autocomplete="off" required autofocus size="40"></p>
<p><button type="submit">Sign in</button></p>
</form>{{end}}
<p>Leads, QA and analysts. Your administrator issues tokens with <code>fieldwork token issue</code>.</p>{{end}}`)

var listTmpl = webPage(`{{define "main"}}<h1>Inspections</h1>
{{with .Body}}{{if .Inspections}}<ul>{{range .Inspections}}<li><a href="/inspections/{{path .ID}}/">{{.Name}}</a> — {{.FrameworkID}} v{{.FrameworkVersion}}, {{.Status}}, your role: {{.Role}}</li>{{end}}</ul>
<h2 id="pool" tabindex="-1">Pool inspections</h2>
<form method="get" action="/pooled/"><fieldset><legend>Inspections to pool (one framework version; a region or a national view, from the kept counts)</legend>
{{range .Inspections}}<p><input type="checkbox" name="id" value="{{.ID}}" id="pool-{{.ID}}"> <label for="pool-{{.ID}}">{{.Name}}</label></p>{{end}}
</fieldset>
<p><button type="submit">Pool the ticked inspections</button></p></form>
{{else}}<p>No inspection on which you are a lead, QA or analyst.</p>{{end}}{{end}}{{end}}`)
