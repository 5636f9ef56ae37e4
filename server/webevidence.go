package server

import (
	"net/http"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

var evidenceTmpl = webPage(`{{define "main"}}{{with .Body}}<h1>Cases behind {{.Question}}{{if .Value}}: {{.Value}}{{end}}</h1>
<p>{{.Text}}</p>
<p>{{len .Rows}} case(s){{if .Grep}} whose note holds the text searched for{{end}}{{if .Where}}, among cases with the attributes chosen{{end}}; {{range .Counts}}{{.Value}} {{.N}} · {{end}}answers that count in the figures only.</p>
<form method="get"><input type="hidden" name="question" value="{{.Question}}"><input type="hidden" name="value" value="{{.Value}}">{{range .By}}<input type="hidden" name="by" value="{{.}}">{{end}}
<p><label for="grep">Notes containing</label> <input id="grep" name="grep" value="{{.Grep}}"> <button type="submit">Search</button></p></form>
{{if .Rows}}<table><thead><tr><th scope="col">Case</th><th scope="col">Inspector</th><th scope="col">Answer</th><th scope="col">Evidence note</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.CaseRef}}</td><td>{{.Inspector}}</td><td>{{.Value}}</td><td class="note">{{.Note}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No case.</p>{{end}}{{end}}{{end}}`)

// evidencePage lists the cases behind one figure of the live view
// (?question=ID[&value=V][&by=ATTR=VALUE…][&grep=TEXT]), by the same rule
// and visibility as the ListEvidence RPC.
func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request, u webUser) {
	id := r.PathValue("id")
	if err := s.allowedInspection(r.Context(), u.User, id); err != nil {
		s.httpError(w, err)
		return
	}
	q := r.URL.Query()
	f := aggregate.EvidenceFilter{Value: q.Get("value"), Grep: q.Get("grep"), Where: map[string]string{}}
	for _, by := range q["by"] {
		k, v, ok := strings.Cut(by, "=")
		if !ok {
			s.httpError(w, framework.Errorf(framework.CodeInvalid, "by: want ATTRIBUTE=VALUE"))
			return
		}
		if _, twice := f.Where[k]; twice {
			s.httpError(w, framework.Errorf(framework.CodeInvalid, "by: an attribute given twice"))
			return
		}
		f.Where[k] = v
	}
	qid := q.Get("question")
	fw, rows, err := evidence(r.Context(), s.db, u.User, id, qid, f)
	if err != nil {
		s.httpError(w, err)
		return
	}
	text := ""
	if q, ok := fw.Question(qid); ok {
		text = q.Text
	}
	type count struct {
		Value string
		N     int
	}
	var counts []count
	at := map[string]int{}
	for _, row := range rows {
		i, ok := at[row.Value]
		if !ok {
			i = len(counts)
			at[row.Value] = i
			counts = append(counts, count{Value: row.Value})
		}
		counts[i].N++
	}
	// Back to the figure: the live page's link to these cases (without the
	// filters, which the figures do not have).
	nav := &webNav{User: u.Name, CSRF: u.csrf, Here: "evidence", Live: "./", LiveName: "This inspection",
		Back: "./#" + report.FigureAnchor(report.EvidenceQuery(qid, f.Value)), BackText: "Back to the figure"}
	s.render(w, evidenceTmpl, webView{Title: "Cases behind " + qid, Nav: nav, Body: map[string]any{"Question": qid, "Text": text, "Value": f.Value,
		"Grep": f.Grep, "Where": f.Where, "By": q["by"], "Rows": rows, "Counts": counts}})
}
