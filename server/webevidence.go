package server

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

var evidenceTmpl = template.Must(template.New("evidence").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldwork — cases behind {{.Question}}</title>
<style>body{font:16px/1.5 system-ui,Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.note{white-space:pre-wrap}</style></head>
<body><p><a href="./">← back to the live view</a></p>
<h1>Cases behind {{.Question}}{{if .Value}}: {{.Value}}{{end}}</h1>
<p>{{.Text}}</p>
<p>{{len .Rows}} case(s){{if .Grep}} whose note holds the text searched for{{end}}{{if .Where}}, among cases with the attributes chosen{{end}}; {{range .Counts}}{{.Value}} {{.N}} · {{end}}answers that count in the figures only.</p>
<form method="get"><input type="hidden" name="question" value="{{.Question}}"><input type="hidden" name="value" value="{{.Value}}">{{range .By}}<input type="hidden" name="by" value="{{.}}">{{end}}
<label>Notes containing <input name="grep" value="{{.Grep}}"></label> <button type="submit">Search</button></form>
{{if .Rows}}<table><thead><tr><th scope="col">Case</th><th scope="col">Inspector</th><th scope="col">Answer</th><th scope="col">Evidence note</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.CaseRef}}</td><td>{{.Inspector}}</td><td>{{.Value}}</td><td class="note">{{.Note}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No case.</p>{{end}}
</body></html>`))

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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := evidenceTmpl.Execute(w, map[string]any{"Question": qid, "Text": text, "Value": f.Value, "Grep": f.Grep, "Where": f.Where,
		"By": q["by"], "Rows": rows, "Counts": counts}); err != nil {
		s.log.Error("evidence page", "err", err)
	}
}
