package report

import "html/template"

// printCSS lays the HTML annexe out for reading on screen by keyboard and
// for print on A4 landscape (as the XLSX annexe: the question tables have
// ten columns): the question text gets the room (the other columns take
// only their width), each table's heading stays with its table, a row is
// never split across pages and the column headings repeat on every page.
// The checks are print_test.go's (Chromium's PDF, axe-core). The rating
// colours' text (html.go) contrasts 4.5:1 or more, as WCAG 2.2 AA asks.
const printCSS template.CSS = `.skip { position: absolute; left: -9999px; top: .5rem; background: #fff; color: var(--ink); padding: .4rem .7rem; border: 2px solid var(--ink); }
.skip:focus { left: .5rem; }
a:focus-visible { outline: 3px solid #1f4e79; outline-offset: 2px; }
main:focus { outline: none; }
nav.contents ol { columns: 2; margin: .25rem 0 1rem; padding-left: 1.5rem; font-size: .9rem; }
th.wide { min-width: 16em; }
table:has(th.wide) th:not(.wide), th.num, td.num { width: 1%; }
td.num { white-space: nowrap; }
@page { size: A4 landscape; margin: 12mm 14mm 14mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9pt; }
  /* Within the page's 269 mm: a wider table would make Chromium shrink every page. */
  table { font-size: 8.5pt; }
  th, td { padding: .2rem .3rem; }
  th.wide { min-width: 14em; }
  svg { width: 190mm; height: auto; } /* not the page's whole width: it would fill a page */
  .skip, nav.contents { display: none; }
  h2 { break-after: avoid; break-inside: avoid; }
  h2 + table, h2 + svg, h2 + section { break-before: avoid; }
  thead { display: table-header-group; }
  tr, svg, section.written, .legend { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .grid td.rating, .r-out, .r-good, .r-ri, .r-inad, .r-none, .r-share, th, .legend span { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}`

// wideColumn is true for the columns of long text (question text,
// titles), which get most of a table's width.
func wideColumn(name string) bool { return name == "text" || name == "title" }

// The annexe's contents: a link to each section, after the skip link,
// so that a keyboard reaches any table in a few key presses.
var _ = template.Must(page.New("contents").Parse(`<nav class="contents" aria-label="Contents"><ol>
<li><a href="#grid">{{if .Rated}}Ratings grid{{else}}Share meeting the standard{{end}}</a></li>
{{if .Written}}<li><a href="#written">Written judgements</a></li>
{{end}}<li><a href="#chart">% Yes by key question</a></li>
{{range .Tables}}<li><a href="#{{.Name}}">{{.Title}}</a></li>
{{end}}{{with .Live}}{{if not .Pooled}}<li><a href="#conflicts">Open conflicts</a></li>
{{end}}{{end}}<li><a href="#method">Method</a></li>
</ol></nav>
`))
