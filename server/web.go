package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The lead's live view: a read-only web page per inspection with what
// needs action (open conflicts, refused edits, cases waiting for QA),
// progress and the figures (ratings grid, key-question bars with band
// lines, every table), updating itself in place as syncs change them
// (weblive.go). A lead signs in
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
	mux.HandleFunc("GET /inspections/{id}/data", s.withUser(s.liveData))
	mux.HandleFunc("GET /inspections/{id}/version", s.withUser(s.liveVersion))
	mux.HandleFunc("GET /inspections/{id}/table", s.withUser(s.inspectionTablePage))
	mux.HandleFunc("GET /inspections/{id}/evidence", s.withUser(s.evidencePage))
	mux.HandleFunc("GET /pooled/{$}", s.withUser(s.pooledPage))
	mux.HandleFunc("GET /pooled/data", s.withUser(s.pooledDataFragment))
	mux.HandleFunc("GET /pooled/version", s.withUser(s.pooledVersion))
	mux.HandleFunc("GET /pooled/table", s.withUser(s.pooledTablePage))
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
	s.render(w, loginTmpl, webView{Title: "Sign in", Body: map[string]string{"Error": loginErrors[r.URL.Query().Get("error")], "CSRF": csrf}})
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
	s.render(w, listTmpl, webView{Title: "Inspections", Nav: &webNav{User: u.Name, CSRF: u.csrf, Here: "list"}, Body: map[string]any{"Inspections": mine}})
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
	if s.certs != nil {
		go func() { <-ctx.Done(); hs.Close() }()
		hs.TLSConfig = s.certs.config() // the pair ReloadTLS keeps current
		err := hs.ServeTLS(lis, "", "")
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
