package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// A pooled view's inspections are read and checked at once
// (readableInspections); it must refuse exactly as a check of each alone
// did. For every kind of user (administrator, analyst, QA, the lead of
// some, an inspector, an outsider) and id lists with a missing inspection,
// one not on the team, duplicates, SQL-ish, NUL-holding and 4 KB ids, and
// lists of 600 and 1000 ids whose one unreadable id lies past the first
// 500: the page, its data, version and table page give the status and the
// words of the first id's own page that refuses (so the same words for
// "does not exist" and "not on the team" to whoever is not an
// administrator, naming the same id); with none refused, the view opens
// (a list with duplicates refused as invalid, as before). GetReport
// pooled refuses the same lists, naming the same id.
func TestLiveView_PooledRefusesAsEachInspectionAlone(t *testing.T) {
	l := newLiveEnv(t)
	ids := pooledFixture(t, l.testEnv)
	a, b, c := ids[0], ids[1], ids[2]
	for _, id := range ids {
		l.addMember(t, id, "analyst.n", string(framework.RoleAnalyst))
		l.addMember(t, id, "qa.q", string(framework.RoleQA))
	}
	l.addMember(t, a, "lead.l", string(framework.RoleLead))
	l.addMember(t, b, "lead.l", string(framework.RoleLead))
	l.addMember(t, a, "mixed.m", string(framework.RoleAnalyst))
	l.addMember(t, b, "mixed.m", string(framework.RoleInspector))
	l.addMember(t, c, "mixed.m", string(framework.RoleAnalyst))
	if err := l.srv.DB().CreateUser(t.Context(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	missing := uuid.Must(uuid.NewV7()).String()
	huge := strings.Repeat("x", 4096)
	long := func(n, at int, odd string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = ids[i%3]
		}
		if odd != "" {
			out[at] = odd
		}
		return out
	}
	lists := map[string][]string{
		"all three":             {a, b, c},
		"reversed":              {c, b, a},
		"missing in the middle": {a, missing, c},
		"missing first":         {missing, b},
		"a duplicate":           {a, b, a},
		"only duplicates":       {b, b},
		"sql-ish":               {a, "x' OR '1'='1", b},
		"sql-ish drop":          {a, "'; DROP TABLE inspections; --", b},
		"NUL":                   {a, "a\x00b", b},
		"4 KB id":               {a, huge, b},
		"600, missing at 550":   long(600, 550, missing),
		"1000, missing last":    long(1000, 999, missing),
		"1000, c at 700 only":   append(slices.Repeat([]string{a, b}, 350), append([]string{c}, slices.Repeat([]string{a}, 299)...)...),
	}
	users := map[string]string{"admin": l.admin}
	for _, u := range []string{"analyst.n", "qa.q", "lead.l", "mixed.m", "outsider"} {
		users[u] = l.token(t, u)
	}
	reports := fieldworkv1.NewReportServiceClient(l.conn)
	for user, token := range users {
		br := l.browser(t)
		signedInTo(t, br.signIn(token))
		type answer struct {
			code int
			body string
		}
		alone := map[string]answer{}
		for name, list := range lists {
			// The refusal expected: the first id whose own page refuses.
			var want *answer
			var wantID string
			for _, id := range list {
				got, ok := alone[id]
				if !ok {
					resp, body := br.do(http.MethodGet, "/inspections/"+url.PathEscape(id)+"/version", nil, nil)
					got = answer{resp.StatusCode, body}
					alone[id] = got
				}
				if got.code != http.StatusOK {
					want, wantID = &got, id
					break
				}
			}
			dup := len(slices.Compact(slices.Sorted(slices.Values(list)))) != len(list)
			q := url.Values{"id": list}.Encode()
			for _, path := range []string{"/pooled/?" + q, "/pooled/data?" + q, "/pooled/version?" + q, "/pooled/table?" + q + "&name=key_questions&page=1"} {
				resp, body := br.do(http.MethodGet, path, nil, nil)
				short := path[:strings.Index(path, "?")]
				switch {
				case want != nil:
					if resp.StatusCode != want.code || body != want.body {
						t.Errorf("%s, %s, %s: %d %.200q; want as its first refused id alone: %d %.200q", user, name, short, resp.StatusCode, body, want.code, want.body)
					}
				case dup && short != "/pooled/version":
					if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "listed twice") {
						t.Errorf("%s, %s, %s: %d %.200q; want 400, listed twice", user, name, short, resp.StatusCode, body)
					}
				case resp.StatusCode != http.StatusOK:
					t.Errorf("%s, %s, %s: %d %.200q; want it open", user, name, short, resp.StatusCode, body)
				}
			}
			_, err := reports.GetReport(as(t.Context(), token), &fieldworkv1.GetReportRequest{InspectionIds: list})
			switch {
			case want != nil:
				// An administrator passes GetReport's check of each id; the
				// pool's then meets the first duplicate or missing id in turn.
				if user == "admin" && dup && status.Code(err) == codes.InvalidArgument && strings.Contains(err.Error(), "listed twice") {
					break
				}
				code := map[int]codes.Code{http.StatusForbidden: codes.PermissionDenied, http.StatusNotFound: codes.NotFound}[want.code]
				named := func(s string) bool { return strings.Contains(s, wantID) || strings.Contains(s, strconv.Quote(wantID)) }
				if status.Code(err) != code || !named(status.Convert(err).Message()) || !named(want.body) {
					t.Errorf("%s, %s: GetReport = %.300v; want %v naming %.100q, as the page (%d %.200q)", user, name, err, code, wantID, want.code, want.body)
				}
			case dup:
				if status.Code(err) != codes.InvalidArgument {
					t.Errorf("%s, %s: GetReport = %v; want invalid (listed twice)", user, name, err)
				}
			case err != nil:
				t.Errorf("%s, %s: GetReport = %v; want the report", user, name, err)
			}
		}
	}
}

// A pooled view refused because the user is on one inspection's team in a
// role that may not read its report (an inspector) says which inspection,
// as GetReport does: "this inspection" named none of 150. The inspection
// alone names itself likewise.
func TestLiveView_PooledRoleRefusalNamesTheInspection(t *testing.T) {
	l := newLiveEnv(t)
	ids := pooledFixture(t, l.testEnv)
	l.addMember(t, ids[0], "mixed.m", string(framework.RoleAnalyst))
	l.addMember(t, ids[1], "mixed.m", string(framework.RoleInspector))
	l.addMember(t, ids[2], "mixed.m", string(framework.RoleAnalyst))
	br := l.browser(t)
	signedInTo(t, br.signIn(l.token(t, "mixed.m")))
	for _, path := range []string{"/pooled/?" + url.Values{"id": ids}.Encode(), "/inspections/" + ids[1] + "/"} {
		resp, body := br.do(http.MethodGet, path, nil, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "inspection "+ids[1]) || strings.Contains(body, ids[0]) || strings.Contains(body, ids[2]) {
			t.Errorf("%s: %d %q; want 403 naming %s alone", path, resp.StatusCode, body, ids[1])
		}
	}
}
