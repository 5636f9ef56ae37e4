package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// The live view of several inspections pooled (a region, a national view):
// /pooled/?id=A&id=B[&by=sex…] shows the figures `fieldwork report
// --inspections A,B [--by sex]` shows, from the kept counts, reloading as
// syncs change them. Whoever may read the report of every inspection
// pooled (framework.CanReadReport on each) may open it; one that they may
// not read refuses the whole page, as GetReport does.

// maxPooledView bounds the inspections of one pooled view (a national view
// is about 150; the URL's own bound is MaxHeaderBytes).
const maxPooledView = 1000

// pooledQuery reads the inspections and breakdowns of a pooled view and
// checks that u may read each inspection's report.
func (s *Server) pooledQuery(ctx context.Context, u framework.User, q url.Values) (ids, by []string, err error) {
	ids, by = q["id"], q["by"]
	switch {
	case len(ids) < 2:
		return nil, nil, framework.Errorf(framework.CodeInvalid, "a pooled view needs at least two inspections (id=…&id=…)")
	case len(ids) > maxPooledView:
		return nil, nil, framework.Errorf(framework.CodeInvalid, "a pooled view takes at most %d inspections, not %d", maxPooledView, len(ids))
	}
	for _, id := range ids {
		if err := s.allowedInspection(ctx, u, id); err != nil {
			return nil, nil, err
		}
	}
	return ids, by, nil
}

func (s *Server) pooledPage(w http.ResponseWriter, r *http.Request, u webUser) {
	ids, by, err := s.pooledQuery(r.Context(), u.User, r.URL.Query())
	if err != nil {
		s.httpError(w, err)
		return
	}
	fw, rep, err := computeReport(r.Context(), s.db, ids, by, false)
	if err != nil {
		s.httpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The version URL carries the same inspections, checked again there.
	live := &report.Live{Seq: rep.AsOfSeq, VersionURL: "version?" + url.Values{"id": ids}.Encode(), EveryMillis: 2000, Pooled: true}
	if err := report.Page(w, rep, fw, live); err != nil {
		s.log.Error("pooled live page", "err", err)
	}
}

func (s *Server) pooledVersion(w http.ResponseWriter, r *http.Request, u webUser) {
	if _, _, err := s.pooledQuery(r.Context(), u.User, r.URL.Query()); err != nil {
		s.httpError(w, err)
		return
	}
	seq, err := s.db.Seq(r.Context())
	if err != nil {
		s.httpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int64{"seq": seq})
}
