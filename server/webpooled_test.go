package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// The live view pools several inspections with the figures of `fieldwork
// report --inspections … --by …`, for whoever may read every one of them.
func TestLiveView_PooledIsTheReportOfEveryInspection(t *testing.T) {
	l := newLiveEnv(t)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l.srv.DB().Now = func() time.Time { return at }
	ids := pooledFixture(t, l.testEnv)
	for _, id := range ids {
		l.addMember(t, id, "analyst.n", string(framework.RoleAnalyst))
	}
	l.addMember(t, ids[0], "lead.l", string(framework.RoleLead))
	l.addMember(t, ids[1], "lead.l", string(framework.RoleLead))
	analyst, lead := l.token(t, "analyst.n"), l.token(t, "lead.l")

	q := url.Values{"id": ids, "by": {"sex", "mappa"}}
	b := l.browser(t)
	signedInTo(t, b.signIn(analyst))
	resp, body := b.do(http.MethodGet, "/pooled/?"+q.Encode(), nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pooled view: %d %s", resp.StatusCode, body)
	}
	rr, err := fieldworkv1.NewReportServiceClient(l.conn).GetReport(as(t.Context(), analyst), &fieldworkv1.GetReportRequest{InspectionIds: ids, By: []string{"sex", "mappa"}})
	if err != nil {
		t.Fatal(err)
	}
	r := wire.ReportFromProto(rr.GetReport())
	fw, _, err := l.srv.DB().Framework(t.Context(), r.FrameworkID, r.FrameworkVersion)
	if err != nil {
		t.Fatal(err)
	}
	// The figures are those GetReport's report draws, whole (no table of
	// this fixture is long enough to be drawn in pages).
	var want bytes.Buffer
	if err := report.Figures(&want, r, fw, &report.Live{Pooled: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, want.String()) {
		t.Errorf("pooled view does not hold the figures of GetReport's report:\n%s\nwant\n%s", body, want.String())
	}
	if strings.Contains(body, `href="evidence?`) || !strings.Contains(body, "Key questions by sex") || !strings.Contains(body, "Key questions by unit") {
		t.Errorf("pooled view: want no evidence links and breakdowns by sex and unit")
	}
	if resp, body := b.do(http.MethodGet, "/pooled/version?"+url.Values{"id": ids}.Encode(), nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"seq"`) {
		t.Errorf("pooled version: %d %s", resp.StatusCode, body)
	}
	for name, tc := range map[string]struct {
		q    url.Values
		code int
	}{
		"one inspection":      {url.Values{"id": ids[:1]}, http.StatusBadRequest},
		"unknown attribute":   {url.Values{"id": ids, "by": {"shoe_size"}}, http.StatusBadRequest},
		"an inspection twice": {url.Values{"id": {ids[0], ids[0]}}, http.StatusBadRequest},
	} {
		if resp, body := b.do(http.MethodGet, "/pooled/?"+tc.q.Encode(), nil, nil); resp.StatusCode != tc.code {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, body, tc.code)
		}
	}

	// The lead of two of the three may pool those two, not all three: the
	// page, its version and GetReport refuse alike, and show no figure.
	lb := l.browser(t)
	signedInTo(t, lb.signIn(lead))
	if resp, body := lb.do(http.MethodGet, "/pooled/?"+url.Values{"id": ids[:2]}.Encode(), nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("lead pooling their two inspections: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/pooled/?", "/pooled/version?"} {
		resp, body := lb.do(http.MethodGet, path+url.Values{"id": ids}.Encode(), nil, nil)
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound || strings.Contains(body, "seq") || strings.Contains(body, "%") {
			t.Errorf("lead pooling an inspection they are not on (%s): %d %s; want refused, no figure", path, resp.StatusCode, body)
		}
	}
	if _, err := fieldworkv1.NewReportServiceClient(l.conn).GetReport(as(t.Context(), lead), &fieldworkv1.GetReportRequest{InspectionIds: ids}); err == nil {
		t.Error("GetReport pooled an inspection the lead is not on")
	}
}
