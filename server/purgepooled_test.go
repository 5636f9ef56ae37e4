package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// A purged inspection anywhere in a pooled request (first, in the middle,
// past the first 500 ids, last of 1000) is refused, naming it, and the
// first purged one in the list's order when two are (store.FirstPurged
// reads them at once): by GetReport pooled, the dataset export and the
// pooled live page alike, before anything else is said of the list
// (duplicates included, as before).
func TestPurge_PooledRequestsNameTheFirstPurged(t *testing.T) {
	l := newLiveEnv(t)
	ids := pooledFixture(t, l.testEnv)
	a, p1, p2 := ids[0], ids[1], ids[2]
	ctx := as(t.Context(), l.admin)
	ins := fieldworkv1.NewInspectionServiceClient(l.conn)
	for _, id := range []string{p2, p1} {
		if _, err := ins.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked", DeviceId: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.srv.Purge(ctx, adminActor, id); err != nil {
			t.Fatal(err)
		}
	}
	long := func(n int, at map[int]string) []string {
		out := slices.Repeat([]string{a}, n)
		for i, id := range at {
			out[i] = id
		}
		return out
	}
	lists := []struct {
		name  string
		ids   []string
		named string
	}{
		{"first", []string{p1, a}, p1},
		{"middle", []string{a, p2, a}, p2},
		{"last", []string{a, p1}, p1},
		{"two, the second purged first", []string{a, p1, p2}, p1},
		{"two, the other order", []string{a, p2, p1}, p2},
		{"600, at 550 and 580", long(600, map[int]string{550: p2, 580: p1}), p2},
		{"1000, last", long(1000, map[int]string{999: p1}), p1},
	}
	reports := fieldworkv1.NewReportServiceClient(l.conn)
	br := l.browser(t)
	signedInTo(t, br.signIn(l.admin))
	for _, tc := range lists {
		other := p1
		if tc.named == p1 {
			other = p2
		}
		refused := func(what string, err error, msg string) {
			t.Helper()
			if err != nil {
				msg = status.Convert(err).Message()
			}
			if !strings.Contains(msg, "inspection "+tc.named+" was purged") || strings.Contains(msg, other) {
				t.Errorf("%s, %s: %v %q; want refused as purged, naming %s only", tc.name, what, err, msg, tc.named)
			}
		}
		_, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionIds: tc.ids})
		if status.Code(err) != codes.FailedPrecondition {
			t.Errorf("%s: GetReport = %v; want FailedPrecondition", tc.name, err)
		}
		refused("GetReport", err, "")
		s, err := reports.ExportDataset(ctx, &fieldworkv1.ExportDatasetRequest{InspectionIds: tc.ids, DeviceId: "test"})
		if err == nil {
			_, err = s.Recv()
		}
		if status.Code(err) != codes.FailedPrecondition {
			t.Errorf("%s: ExportDataset = %v; want FailedPrecondition", tc.name, err)
		}
		refused("ExportDataset", err, "")
		for _, path := range []string{"/pooled/?", "/pooled/data?", "/pooled/table?name=key_questions&page=1&"} {
			resp, body := br.do(http.MethodGet, path+url.Values{"id": tc.ids}.Encode(), nil, nil)
			if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusPreconditionFailed {
				t.Errorf("%s, %s: %d; want refused", tc.name, path, resp.StatusCode)
			}
			refused(path, nil, body)
		}
	}
	if _, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionIds: []string{a, ids[0]}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no purged one, a duplicate: %v; want invalid", err)
	}
}
