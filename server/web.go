package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The lead's live view: a read-only web page per inspection with the
// ratings grid, key-question bars with band lines, completeness and open
// conflicts, reloading itself as syncs change the figures. It uses the same
// tokens as the API (sent once through the login form, then kept in an
// HttpOnly, SameSite=Strict cookie) and admits leads, analysts and
// administrators only.

const sessionCookie = "fieldwork_token"

// liveRoles may open the live view of an inspection.
var liveRoles = map[string]bool{framework.RoleLead: true, framework.RoleAnalyst: true, framework.RoleAdmin: true}

// HTTPHandler returns the live view's handler.
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", s.withUser(s.inspectionsPage))
	mux.HandleFunc("GET /inspections/{id}/{$}", s.withUser(s.livePage))
	mux.HandleFunc("GET /inspections/{id}/version", s.withUser(s.liveVersion))
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

var loginTmpl = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldwork — sign in</title>
<style>body{font:16px/1.5 system-ui,Arial,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}input{font:inherit;width:100%;padding:.4rem}
button{font:inherit;margin-top:1rem;padding:.4rem 1rem}.err{color:#a00}</style></head>
<body><h1>fieldwork live view</h1>
{{if .}}<p class="err" role="alert">{{.}}</p>{{end}}
<form method="post" action="/login">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<button type="submit">Sign in</button>
</form>
<p>Leads and analysts only. Your administrator issues tokens with <code>fieldwork token issue</code>.</p>
</body></html>`))

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginTmpl.Execute(w, r.URL.Query().Get("error"))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	if _, err := s.db.Authenticate(r.Context(), token); err != nil {
		http.Redirect(w, r, "/login?error=That+token+is+not+valid.", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.cfg.TLSCertFile != "", SameSite: http.SameSiteStrictMode, MaxAge: 12 * 3600})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// withUser authenticates the session cookie or sends the browser to sign in.
func (s *Server) withUser(h func(http.ResponseWriter, *http.Request, store.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		u, err := s.db.Authenticate(r.Context(), c.Value)
		if err != nil {
			http.Redirect(w, r, "/login?error=Your+session+has+ended.", http.StatusSeeOther)
			return
		}
		h(w, r, u)
	}
}

var listTmpl = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldwork — inspections</title>
<style>body{font:16px/1.5 system-ui,Arial,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}li{margin:.3rem 0}</style></head>
<body><h1>Inspections</h1>
<p>Signed in as {{.User}}.</p>
{{if .Inspections}}<ul>{{range .Inspections}}<li><a href="/inspections/{{.ID}}/">{{.Name}}</a> — {{.FrameworkID}}, {{.Status}}, your role: {{.Role}}</li>{{end}}</ul>
{{else}}<p>No inspection on which you are a lead or analyst.</p>{{end}}
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
</body></html>`))

func (s *Server) inspectionsPage(w http.ResponseWriter, r *http.Request, u store.User) {
	all, err := s.db.Inspections(r.Context(), u)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var mine []framework.Inspection
	for _, in := range all {
		if liveRoles[in.Role] {
			mine = append(mine, in)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	listTmpl.Execute(w, map[string]any{"User": u.Name, "Inspections": mine})
}

func (s *Server) allowedInspection(ctx context.Context, u store.User, id string) error {
	in, err := s.db.Inspection(ctx, u, id)
	if err != nil {
		return err
	}
	if !liveRoles[in.Role] {
		return framework.Errorf(framework.CodePermission, "the live view is for the lead and analysts of this inspection")
	}
	return nil
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	if err := s.allowedInspection(r.Context(), u, id); err != nil {
		s.httpError(w, err)
		return
	}
	fw, in, err := s.db.ReportInput(r.Context(), id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	conflicts, err := s.db.OpenConflicts(r.Context(), id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	rep := aggregate.Compute(fw, in)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := report.Page(w, rep, fw, &report.Live{Seq: in.AsOfSeq, VersionURL: "version", EveryMillis: 2000, Conflicts: conflicts}); err != nil {
		s.log.Error("live page", "err", err)
	}
}

func (s *Server) liveVersion(w http.ResponseWriter, r *http.Request, u store.User) {
	if err := s.allowedInspection(r.Context(), u, r.PathValue("id")); err != nil {
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

func (s *Server) httpError(w http.ResponseWriter, err error) {
	code := map[framework.Code]int{framework.CodeNotFound: http.StatusNotFound, framework.CodePermission: http.StatusForbidden,
		framework.CodeInvalid: http.StatusBadRequest, framework.CodeUnauthorized: http.StatusUnauthorized}[framework.ErrorCode(err)]
	if code == 0 {
		s.log.Error("live view", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Error(w, err.Error(), code)
}

// ServeWeb serves the live view on lis until ctx is done.
func (s *Server) ServeWeb(ctx context.Context, lis net.Listener) error {
	hs := &http.Server{Handler: s.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second}
	if s.cfg.TLSCertFile != "" {
		go func() { <-ctx.Done(); hs.Close() }()
		err := hs.ServeTLS(lis, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("live view: %w", err)
	}
	return nil
}
