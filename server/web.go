package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The lead's live view: a read-only web page per inspection with the
// ratings grid, key-question bars with band lines, completeness and open
// conflicts, reloading itself as syncs change the figures. A lead signs in
// once with an API token; the browser then holds only a server-side
// session's random id (websession.go), in an HttpOnly, SameSite=Strict
// cookie, Secure over TLS. It admits leads, analysts and administrators
// only.

const (
	sessionCookie = "fieldwork_session"
	// loginCookie carries the sign-in form's CSRF token (double submit:
	// the form must echo the cookie, which another site cannot read).
	loginCookie = "fieldwork_login"
	// oldTokenCookie is where earlier versions kept the raw token; it is
	// cleared at sign-in and sign-out.
	oldTokenCookie = "fieldwork_token"
)

// HTTPHandler returns the live view's handler.
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", s.withUser(s.inspectionsPage))
	mux.HandleFunc("GET /inspections/{id}/{$}", s.withUser(s.livePage))
	mux.HandleFunc("GET /inspections/{id}/version", s.withUser(s.liveVersion))
	mux.HandleFunc("GET /inspections/{id}/evidence", s.withUser(s.evidencePage))
	mux.HandleFunc("GET /pooled/{$}", s.withUser(s.pooledPage))
	mux.HandleFunc("GET /pooled/version", s.withUser(s.pooledVersion))
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// same-origin: our own form posts carry Origin and Referer for the
		// same-origin check; no URL of ours reaches another site.
		w.Header().Set("Referrer-Policy", "same-origin")
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
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<button type="submit">Sign in</button>
</form>
<p>Leads and analysts only. Your administrator issues tokens with <code>fieldwork token issue</code>.</p>
</body></html>`))

// loginErrors are the messages the sign-in page shows, by the code a
// redirect carries (the page never echoes free text from its URL).
var loginErrors = map[string]string{
	"invalid": "That token is not valid.",
	"ended":   "Your session has ended. Sign in again.",
}

func (s *Server) cookie(r *http.Request, name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	csrf := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		csrf = c.Value // keep it: another open sign-in tab stays valid
	} else {
		csrf = randomToken()
	}
	http.SetCookie(w, s.cookie(r, loginCookie, csrf, "/login", time.Hour))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginTmpl.Execute(w, map[string]string{"Error": loginErrors[r.URL.Query().Get("error")], "CSRF": csrf})
}

// login checks, in this order: that the form came from our own page
// (origin, then CSRF token), that the client address has failed fewer
// than signInFailuresPerMinute times in the last minute, and only then
// the token.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "Sign-in refused: the form was not sent from this site.", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		http.Error(w, "Sign-in refused: the form has expired. Reload the sign-in page and try again.", http.StatusForbidden)
		return
	}
	done, ok := s.signIns.take(clientAddr(r))
	if !ok {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "Too many failed sign-ins from your address. Wait a minute, then try again.", http.StatusTooManyRequests)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	u, err := s.db.Authenticate(r.Context(), token)
	done(err == nil)
	if err != nil {
		if framework.ErrorCode(err) != framework.CodeUnauthorized {
			s.httpError(w, err)
			return
		}
		http.Redirect(w, r, "/login?error=invalid", http.StatusSeeOther)
		return
	}
	id := s.sessions.open(u.Name, store.TokenHash(token))
	http.SetCookie(w, s.cookie(r, sessionCookie, id, "/", s.cfg.WebSessionMax))
	http.SetCookie(w, s.cookie(r, loginCookie, "", "/login", -1))
	http.SetCookie(w, s.cookie(r, oldTokenCookie, "", "/", -1))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session; the form must come from our page and carry the
// session's CSRF token, so another site cannot sign the lead out.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "Sign-out refused: the form was not sent from this site.", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess, ok := s.sessions.get(c.Value); ok {
			if !sameToken(r.PostFormValue("csrf"), sess.csrf) {
				http.Error(w, "Sign-out refused: the form has expired. Reload the page and try again.", http.StatusForbidden)
				return
			}
			s.sessions.end(sess.key)
		}
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", "/", -1))
	http.SetCookie(w, s.cookie(r, oldTokenCookie, "", "/", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// withUser admits a request with a live session whose token is still
// valid, or sends the browser to sign in. A session whose token has been
// revoked or has expired is ended here, at its first request after.
func (s *Server) withUser(h func(http.ResponseWriter, *http.Request, webUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		sess, ok := s.sessions.get(c.Value)
		if !ok {
			http.Redirect(w, r, "/login?error=ended", http.StatusSeeOther)
			return
		}
		u, err := s.db.AuthenticateHash(r.Context(), sess.tokenHash)
		if err == nil && u.Name != sess.user {
			err = framework.Errorf(framework.CodeUnauthorized, "token of another user")
		}
		if err != nil {
			if framework.ErrorCode(err) != framework.CodeUnauthorized {
				s.httpError(w, err)
				return
			}
			s.sessions.end(sess.key)
			http.SetCookie(w, s.cookie(r, sessionCookie, "", "/", -1))
			http.Redirect(w, r, "/login?error=ended", http.StatusSeeOther)
			return
		}
		h(w, r, webUser{User: u, csrf: sess.csrf})
	}
}

// webUser is a signed-in live-view user and their session's CSRF token.
type webUser struct {
	framework.User
	csrf string
}

var listTmpl = template.Must(template.New("list").Funcs(template.FuncMap{"path": url.PathEscape}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldwork — inspections</title>
<style>body{font:16px/1.5 system-ui,Arial,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}li{margin:.3rem 0}</style></head>
<body><h1>Inspections</h1>
<p>Signed in as {{.User}}.</p>
{{if .Inspections}}<form method="get" action="/pooled/"><ul>{{range .Inspections}}<li><input type="checkbox" name="id" value="{{.ID}}" aria-label="pool {{.Name}}"> <a href="/inspections/{{path .ID}}/">{{.Name}}</a> — {{.FrameworkID}} v{{.FrameworkVersion}}, {{.Status}}, your role: {{.Role}}</li>{{end}}</ul>
<p><button type="submit">Pool the ticked inspections</button> (one framework version; a region or a national view, from the kept counts)</p></form>
{{else}}<p>No inspection on which you are a lead, QA or analyst.</p>{{end}}
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>
</body></html>`))

func (s *Server) inspectionsPage(w http.ResponseWriter, r *http.Request, u webUser) {
	all, err := s.db.Inspections(r.Context(), u.User)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var mine []framework.Inspection
	for _, in := range all {
		if framework.CanReadReport(in.Role) {
			mine = append(mine, in)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	listTmpl.Execute(w, map[string]any{"User": u.Name, "Inspections": mine, "CSRF": u.csrf})
}

func (s *Server) allowedInspection(ctx context.Context, u framework.User, id string) error {
	in, err := s.db.Inspection(ctx, u, id)
	if err != nil {
		return err
	}
	// The live view shows the report's figures: whoever may read the report
	// (framework.CanReadReport) may open it, QA included.
	if !framework.CanReadReport(in.Role) {
		return framework.Errorf(framework.CodePermission, "the live view is for the lead, QA and analysts of this inspection")
	}
	return nil
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request, u webUser) {
	id := r.PathValue("id")
	if err := s.allowedInspection(r.Context(), u.User, id); err != nil {
		s.httpError(w, err)
		return
	}
	if fw, rep, err := frozenReport(r.Context(), s.db, id); err != nil || rep != nil {
		if err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			err = report.Page(w, rep, fw, nil) // purged: nothing is live any more
		}
		if err != nil {
			s.httpError(w, err)
		}
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

func (s *Server) liveVersion(w http.ResponseWriter, r *http.Request, u webUser) {
	if err := s.allowedInspection(r.Context(), u.User, r.PathValue("id")); err != nil {
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

// httpStatus is the live view's HTTP status for each error code, as
// internal/rpcerr gives each its gRPC one; an error without a code is
// internal (500, logged, its text not sent).
var httpStatus = map[framework.Code]int{
	framework.CodeInvalid:  http.StatusBadRequest,
	framework.CodeNotFound: http.StatusNotFound,
	framework.CodeExists:   http.StatusConflict,
	// The request is well formed but the state refuses it (a locked
	// inspection, a replaced database file). 412 is for conditional
	// headers, which the live view does not use.
	framework.CodePrecondition: http.StatusConflict,
	framework.CodeConflict:     http.StatusConflict,
	framework.CodePermission:   http.StatusForbidden,
	framework.CodeUnauthorized: http.StatusUnauthorized,
}

func (s *Server) httpError(w http.ResponseWriter, err error) {
	code, ok := httpStatus[framework.ErrorCode(err)]
	if !ok {
		s.log.Error("live view", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Error(w, err.Error(), code)
}

// ServeWeb serves the live view on lis until ctx is done.
func (s *Server) ServeWeb(ctx context.Context, lis net.Listener) error {
	// Every connection is bounded: headers, how long a request may take to
	// arrive and to be answered, and how long an idle one is kept.
	hs := &http.Server{Handler: s.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
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
