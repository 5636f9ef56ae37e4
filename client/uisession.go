package client

import (
	"crypto/sha256"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// How the web form lets its user's browser in, and nobody else. The
// process never hands a lasting secret to anyone: it mints one-time codes,
// each exchanged once for a session cookie. A code reaches the browser in a
// file only the user can read (or on the user's terminal), never on a
// command line, and is dead after one use or CodeTTL. Sessions end after
// SessionIdle without a request, and when the process stops.
const (
	// CodeTTL is how long a one-time sign-in code can be exchanged.
	CodeTTL = 60 * time.Second
	// SessionIdle ends a browser session left unused this long.
	SessionIdle = 12 * time.Hour

	sessionCookie = "fieldwork_ui"
)

// sessions holds the outstanding one-time codes (by expiry) and the open
// sessions (by last use), both keyed by the SHA-256 of the secret: a lookup
// reveals nothing through its timing, and memory holds no usable secret.
type sessions struct {
	mu       sync.Mutex
	codes    map[[32]byte]time.Time
	sessions map[[32]byte]time.Time
}

func newSessions() *sessions {
	return &sessions{codes: map[[32]byte]time.Time{}, sessions: map[[32]byte]time.Time{}}
}

// newCode mints a one-time code valid until now+CodeTTL.
func (s *sessions) newCode(now time.Time) string {
	code := randomHex()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.codes {
		if !now.Before(exp) {
			delete(s.codes, k)
		}
	}
	s.codes[sha256.Sum256([]byte(code))] = now.Add(CodeTTL)
	return code
}

// exchange spends a code: the first exchange of an unexpired code opens a
// session and returns its id; any other attempt gets "".
func (s *sessions) exchange(code string, now time.Time) string {
	k := sha256.Sum256([]byte(code))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.codes[k]
	delete(s.codes, k)
	if !ok || !now.Before(exp) {
		return ""
	}
	id := randomHex()
	s.sessions[sha256.Sum256([]byte(id))] = now
	return id
}

// valid reports whether id names an open session, and marks it used.
func (s *sessions) valid(id string, now time.Time) bool {
	if id == "" {
		return false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.sessions[k]
	if !ok {
		return false
	}
	if now.Sub(last) >= SessionIdle {
		delete(s.sessions, k)
		return false
	}
	s.sessions[k] = now
	return true
}

// StartURL mints a one-time code and returns the address that exchanges
// it (valid once, for CodeTTL). Print it only to the user's own terminal.
func (u *UI) StartURL(base string) string {
	return base + "/?code=" + u.sessions.newCode(u.Now())
}

// WriteStartPage mints a one-time code and writes a page that posts it to
// the form at base: a file readable by the user only (0600, in a fresh
// 0700 folder), so a browser can be pointed at it with nothing secret on
// its command line. remove deletes the folder; the code dies anyway after
// CodeTTL.
func (u *UI) WriteStartPage(base string) (path string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "fieldwork-ui-")
	if err != nil {
		return "", nil, fmt.Errorf("start page: %w", err)
	}
	remove = func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o700); err != nil {
		remove()
		return "", nil, fmt.Errorf("start page: %w", err)
	}
	var b strings.Builder
	if err := startPage.Execute(&b, map[string]string{"Action": base + "/start", "Code": u.sessions.newCode(u.Now())}); err != nil {
		remove()
		return "", nil, fmt.Errorf("start page: %w", err)
	}
	path = filepath.Join(dir, "open.html")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		remove()
		return "", nil, fmt.Errorf("start page: %w", err)
	}
	return path, remove, nil
}

// BrowserCommand is the command that opens a start page written by
// WriteStartPage with opener (xdg-open): its arguments are the opener and
// the file's path, never the code, which `ps` would show any local user.
func BrowserCommand(opener, startPage string) *exec.Cmd {
	return exec.Command(opener, startPage)
}

var startPage = template.Must(template.New("start").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Opening fieldwork…</title></head><body>
<form method="post" action="{{.Action}}"><input type="hidden" name="code" value="{{.Code}}">
<p>Opening your fieldwork form… <button type="submit">Open it</button> (this link works once, within a minute)</p></form>
<script>document.forms[0].submit();</script>
</body></html>`))

// continuePage follows a code's exchange. It is a page of the form's own
// origin that moves on by itself, not a redirect: after a start page posted
// from a file (another site), a redirect would still count as that site's
// navigation and the browser would not send the SameSite=Strict cookie.
const continuePage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=/cases"><title>fieldwork</title></head>
<body><p><a href="/cases">Continue to your cases</a></p></body></html>`

var signInHelp = fmt.Sprintf("This address does not open the form: each sign-in link works once, within %d seconds, and a session ends after %d hours unused. "+
	"Press Enter in the terminal where `fieldwork ui` runs for a new link.", int(CodeTTL.Seconds()), int(SessionIdle.Hours()))

// startSession exchanges the one-time code in the request (a GET from the
// printed link, or a POST from the start page) for a session cookie.
func (u *UI) startSession(w http.ResponseWriter, r *http.Request) {
	code := r.FormValue("code")
	id := ""
	if code != "" {
		id = u.sessions.exchange(code, u.Now())
	}
	if id == "" {
		if code == "" && u.authed(r) {
			http.Redirect(w, r, "/cases", http.StatusSeeOther)
			return
		}
		http.Error(w, signInHelp, http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(continuePage))
}

func (u *UI) authed(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && u.sessions.valid(c.Value, u.Now())
}
