package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/server"
)

// BenchmarkPooledPage measures the live view's national pooled page
// (/pooled/?id=…, every inspection of the database) over a database made
// by scripts/genpooled, without and with breakdowns, through the real
// HTTP handler on loopback: the figures from the kept counts and the
// page drawn. The same bound holds as for the pooled report (≤ 100 ms p50):
//
//	go run ./scripts/genpooled -out /tmp/pooled.db -answers 10000000
//	FIELDWORK_POOLED_DB=/tmp/pooled.db go test ./server -run XXX -bench PooledPage -benchtime 20x
func BenchmarkPooledPage(b *testing.B) {
	path := os.Getenv("FIELDWORK_POOLED_DB")
	if path == "" {
		b.Skip("set FIELDWORK_POOLED_DB to a database made by scripts/genpooled")
	}
	cfg := server.DefaultConfig()
	cfg.DBPath = path
	e := newTestServerAt(b, cfg, io.Discard)
	web := httptest.NewServer(e.srv.HTTPHandler())
	defer web.Close()
	jar, _ := cookiejar.New(nil)
	br := &browser{t: b, base: web.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if resp := br.signIn(e.admin); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %d", resp.StatusCode)
	}
	ins, err := e.srv.DB().Inspections(b.Context(), framework.User{Name: "admin", Admin: true})
	if err != nil {
		b.Fatal(err)
	}
	q := url.Values{}
	for _, in := range ins {
		q.Add("id", in.ID)
	}
	for _, by := range [][]string{nil, {"sex"}, {"ethnicity", "age_band", "sex"}} {
		name := "by=" + strings.Join(by, ",")
		if by == nil {
			name = "by=none"
		}
		page := "/pooled/?" + q.Encode()
		for _, a := range by {
			page += "&by=" + a
		}
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			var size int
			for b.Loop() {
				start := time.Now()
				resp, body := br.do(http.MethodGet, page, nil, nil)
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET pooled page: %d %.300s", resp.StatusCode, body)
				}
				lat = append(lat, time.Since(start))
				size = len(body)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(size)/1024, "KB/page")
		})
	}
}
