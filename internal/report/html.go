package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// ratingClass maps a rating to its colour class in the page.
func ratingClass(rating string) string {
	switch rating {
	case "Outstanding":
		return "r-out"
	case "Good":
		return "r-good"
	case "Requires improvement":
		return "r-ri"
	case "Inadequate":
		return "r-inad"
	}
	return "r-none"
}

type bar struct {
	ID, Label, Band, Class string
	Y, W                   float64
	Pct                    string
	HasPct                 bool
	CILo, CIHi             float64
	HasCI                  bool
	LabelX                 float64
}

type chart struct {
	Width, Height, Left, Plot float64
	Bars                      []bar
	Lines                     []struct {
		X     float64
		Label string
	}
	Ticks []struct {
		X     float64
		Label string
	}
}

func keyChart(r *aggregate.Report, fw *framework.Framework) chart {
	c := chart{Width: 720, Left: 70, Plot: 600}
	x := func(p float64) float64 { return c.Left + p/100*c.Plot }
	y := 10.0
	for _, q := range r.Questions {
		if q.Kind != framework.QuestionKey {
			continue
		}
		b := bar{ID: q.ID, Label: q.ID, Band: q.Band, Class: ratingClass(q.Band), Y: y, HasPct: q.HasPercent}
		if !r.Rated {
			b.Class = "r-share"
		}
		if q.HasPercent {
			b.W = x(float64(q.Percent)) - c.Left
			b.Pct = fmt.Sprintf("%d%%", q.Percent)
		} else {
			b.Pct = "no relevant cases"
		}
		b.LabelX = c.Left + b.W + 6
		if q.Interval != nil {
			b.HasCI, b.CILo, b.CIHi = true, x(q.Interval.Low), x(q.Interval.High)
			b.LabelX = b.CIHi + 6 // clear of the interval line
		}
		c.Bars = append(c.Bars, b)
		y += 24
	}
	c.Height = y + 26
	if fw.Rated() {
		for _, b := range fw.Rating.Bands {
			if b.MinPercent > 0 {
				c.Lines = append(c.Lines, struct {
					X     float64
					Label string
				}{x(float64(b.MinPercent)), b.Rating})
			}
		}
	}
	for p := 0; p <= 100; p += 20 {
		c.Ticks = append(c.Ticks, struct {
			X     float64
			Label string
		}{x(float64(p)), fmt.Sprintf("%d%%", p)})
	}
	return c
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"rating": ratingClass,
	"rows":   RowsHTML, // with the live view's links to the cases behind a figure
	"isnum":  func(k Kind) bool { return k != Text },
	"wide":   wideColumn,
	"sub":    func(a, b float64) float64 { return a - b },
	"add":    func(a, b float64) float64 { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — data annexe</title>
<style>{{template "css"}}{{define "css"}}
:root { --ink: #1b1b1b; --muted: #555; --rule: #c9c9c9; --out: #1d7a3a; --good: #6aa84f; --ri: #e69138; --inad: #cc3333; --share: #2f6690; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 62rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--ink); padding-bottom: .2rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid td.rating { font-weight: 600; }
.r-out { background: var(--out); } .r-good { background: var(--good); } .r-ri { background: var(--ri); } .r-inad { background: var(--inad); }
.r-none { background: #999; } .r-share { background: var(--share); }
.r-out, .r-inad, .r-share { color: #fff; } .r-good, .r-ri, .r-none { color: var(--ink); }
.score { font-size: 1.1rem; font-weight: 600; }
.note { color: var(--muted); font-size: .85rem; }
svg text { font: 12px system-ui, Arial, sans-serif; fill: var(--ink); }
svg .band { stroke: #333; stroke-dasharray: 4 3; }
svg .axis { stroke: #888; }
svg rect.r-out { fill: var(--out); } svg rect.r-good { fill: var(--good); } svg rect.r-ri { fill: var(--ri); }
svg rect.r-inad { fill: var(--inad); } svg rect.r-share { fill: var(--share); } svg rect.r-none { fill: #999; }
.legend span { display: inline-block; padding: .05rem .4rem; margin-right: .4rem; font-size: .8rem; }
svg .ci { stroke: #222; stroke-width: 1.5; }
ol.method li { margin-bottom: .3rem; }
{{end}}
{{.PrintCSS}}
</style>
</head>
<body>
<a class="skip" href="#main">Skip to the figures</a>
<header>
<h1>{{.Title}}</h1>
<p class="meta">{{.Framework}} · {{.Cases}} cases · as of change {{.AsOf}}, {{.Generated}}</p>{{with .LocalNote}}
<p class="local" role="note"><strong>{{.}}</strong></p>{{end}}
</header>
{{template "contents" .}}<main id="main" tabindex="-1">

{{template "figures" .}}{{define "figures"}}{{if .Rated}}
<h2 id="grid">Ratings grid</h2>
<table class="grid">
<thead><tr><th scope="col">Standard</th><th scope="col">Rating</th><th scope="col">Lowest key question</th><th scope="col" class="num">Points</th></tr></thead>
<tbody>
{{range .Standards}}<tr><td>{{.ID}} {{.Title}}</td><td class="rating {{rating .Rating}}">{{if .Rating}}{{.Rating}}{{else}}not yet rated{{end}}{{if .Sensitive}} *{{end}}</td>
<td>{{if eq .Kind "judged"}}judged{{else if .HasLowest}}{{.Lowest}} ({{.LowestPercent}}%){{end}}</td><td class="num">{{if .HasPoints}}{{.Points}}{{else}}not rated{{end}}</td></tr>
{{end}}</tbody>
</table>
<p class="score">{{.ScoreText}} · Overall: <span class="{{rating .Overall}}" style="padding:.1rem .4rem">{{if .Overall}}{{.Overall}}{{else}}not yet rated{{end}}</span></p>
<p class="note">* the lowest key questions' 95% intervals reach another band: a few cases could change it.</p>
{{else}}
<h2 id="grid">Share meeting the standard</h2>
<table><thead><tr><th scope="col">Stage</th><th scope="col" class="num">Yes</th><th scope="col" class="num">Relevant</th><th scope="col" class="num">%</th></tr></thead><tbody>
{{range .Standards}}<tr><td>{{.ID}} {{.Title}}</td><td class="num">{{.Yes}}</td><td class="num">{{.Relevant}}</td><td class="num">{{if .HasPercent}}{{.Percent}}%{{else}}–{{end}}</td></tr>{{end}}
<tr><th scope="row">Overall (pooled)</th><td class="num">{{.Pooled.Yes}}</td><td class="num">{{.Pooled.Relevant}}</td><td class="num">{{if .Pooled.HasPercent}}{{.Pooled.Percent}}%{{else}}–{{end}}</td></tr>
</tbody></table>
{{end}}

{{if .Written}}<h2 id="written">Written judgements</h2>
{{range .Written}}<section class="written"><h3 style="font-size:1rem;margin:1rem 0 .2rem">{{.Heading}}</h3><p style="margin:0 0 .6rem;white-space:pre-wrap{{if .Summary}};font-weight:600{{end}}">{{.Text}}</p></section>
{{end}}
{{end}}<h2 id="chart">% Yes by key question</h2>
<svg role="img" aria-labelledby="chart-title" width="100%" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Percentage of relevant cases answered Yes for each key question{{if .Rated}}, with the rating band thresholds{{end}}</title>
{{range .Chart.Bars}}<g><text x="{{sub $.Chart.Left 8}}" y="{{add .Y 13}}" text-anchor="end">{{.Label}}</text>
<rect class="{{.Class}}" x="{{$.Chart.Left}}" y="{{.Y}}" width="{{.W}}" height="18"><title>{{.ID}}: {{.Pct}}{{if .Band}} ({{.Band}}){{end}}</title></rect>
{{if .HasCI}}<line class="ci" x1="{{.CILo}}" x2="{{.CIHi}}" y1="{{add .Y 9}}" y2="{{add .Y 9}}"/>{{end}}
<text x="{{.LabelX}}" y="{{add .Y 13}}">{{.Pct}}</text></g>
{{end}}<line class="axis" x1="{{$.Chart.Left}}" x2="{{add $.Chart.Left $.Chart.Plot}}" y1="{{sub $.Chart.Height 22}}" y2="{{sub $.Chart.Height 22}}"/>
{{range .Chart.Ticks}}<text x="{{.X}}" y="{{sub $.Chart.Height 6}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Chart.Lines}}<line class="band" x1="{{.X}}" x2="{{.X}}" y1="4" y2="{{sub $.Chart.Height 22}}"><title>{{.Label}} from here</title></line>
{{end}}</svg>
{{if .Rated}}<p class="legend">{{range .Bands}}<span class="{{rating .Rating}}">{{.Rating}}{{if .MinPercent}} ≥ {{.MinPercent}}%{{else}} &lt; {{$.Lowest}}%{{end}}</span>{{end}}</p>{{end}}
<p class="note">Bars show % Yes over relevant cases, coloured by band; the thin line across each bar is its 95% interval{{if .Rated}}; dashed lines mark the band thresholds{{end}}.</p>

{{range .Tables}}
<h2 id="{{.Name}}">{{.Title}}</h2>
<table>
<thead><tr>{{range .Columns}}<th scope="col"{{if isnum .Kind}} class="num"{{else if wide .Name}} class="wide"{{end}}>{{.Heading}}</th>{{end}}</tr></thead>
<tbody>
{{rows . $.Links}}</tbody>
</table>
{{end}}

{{end}}

<h2 id="method">Method</h2>
<ol class="method">{{range .Method}}<li>{{.}}</li>{{end}}</ol>
</main>
</body>
</html>
`))

// ExportHTML writes one self-contained printable page: inline CSS, the
// ratings grid coloured by rating, an SVG bar chart of % Yes per key
// question with the band thresholds and intervals drawn, every annexe table
// and the method notes. It loads nothing from anywhere.
func ExportHTML(w io.Writer, r *aggregate.Report, fw *framework.Framework) error {
	return Page(w, r, fw, nil)
}

// Page is ExportHTML with the figures drawn for the live view when live
// is not nil (Figures draws them alone).
func Page(w io.Writer, r *aggregate.Report, fw *framework.Framework, live *Live) error {
	return page.Execute(w, pageData(r, fw, live))
}

// pageData is what the page's template and its "figures" part are drawn from.
func pageData(r *aggregate.Report, fw *framework.Framework, live *Live) map[string]any {
	title := r.InspectionName
	if len(r.Units) > 0 {
		title += " (" + strings.Join(r.Units, ", ") + ")"
	}
	var all []Table
	if live != nil {
		all = live.Tables
	}
	if all == nil {
		all = Tables(r)
	}
	var tables []Table
	for _, t := range all {
		if t.Name == "ratings_grid" || t.Name == "stage_shares" || t.Name == "written" {
			continue // drawn above
		}
		if live != nil && live.Omit[t.Name] {
			continue // the live view draws it elsewhere
		}
		tables = append(tables, t)
	}
	return map[string]any{
		"Title": title, "Framework": fmt.Sprintf("%s v%d", fw.ID, fw.Version), "Cases": r.Cases, "AsOf": r.AsOfSeq,
		"Generated": r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"), "Rated": r.Rated, "Standards": r.Standards,
		"Score": r.Score, "ScoreText": scoreText(r), "ScoreComplete": r.ScoreComplete, "MaxScore": r.MaxScore, "Overall": r.Overall, "Pooled": r.Pooled,
		"Chart": keyChart(r, fw), "Tables": tables, "Method": MethodNotes(r, fw), "Bands": bands(fw), "Lowest": lowestThreshold(fw), "Live": live,
		"Links":   live != nil && !live.Pooled, // a figure links to its cases on one inspection's live page
		"Written": writtenHTML(r), "LocalNote": LocalNote(r), "PrintCSS": printCSS,
	}
}

func bands(fw *framework.Framework) []framework.Band {
	if fw.Rating == nil {
		return nil
	}
	return fw.Rating.Bands
}

// lowestThreshold is the minimum percent of the second-lowest band: the
// lowest band is everything below it.
func lowestThreshold(fw *framework.Framework) int {
	if fw.Rating == nil || len(fw.Rating.Bands) < 2 {
		return 0
	}
	return fw.Rating.Bands[len(fw.Rating.Bands)-2].MinPercent
}
