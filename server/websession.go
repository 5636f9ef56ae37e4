package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The live view's sign-in protections: server-side sessions, a limit on
// failed sign-ins per client address, and the same-origin and CSRF checks
// on the forms that sign in and out.

// webSessions are the live view's signed-in browsers. They are kept in
// memory, not in the database: a session lives hours at most, a restart
// only asks the lead to sign in again, and nothing about it then lasts on
// disk or in backups. Sessions are found by the SHA-256 of their id, so
// not even this process's memory holds a cookie that would let one in;
// each keeps the hash of the token it was opened with, never the token,
// and every request checks that token is still live (not revoked or
// expired).
type webSessions struct {
	now       func() time.Time
	idle, max time.Duration

	mu   sync.Mutex
	byID map[string]*webSession // by hashID(session id)
}

type webSession struct {
	key       string // hashID of the id in the cookie
	user      string
	tokenHash string // store.TokenHash of the token signed in with
	csrf      string // the sign-out form's token
	created   time.Time
	seen      time.Time
}

const (
	// maxWebSessions bounds the sessions kept; signing in needs a valid
	// token, so only users can open them, and each keeps its newest few.
	maxWebSessions        = 10000
	maxWebSessionsPerUser = 16
)

func newWebSessions(now func() time.Time, idle, max time.Duration) *webSessions {
	return &webSessions{now: now, idle: idle, max: max, byID: map[string]*webSession{}}
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// open starts a session for user signed in with the token of tokenHash
// and returns the id for its cookie.
func (ws *webSessions) open(user, tokenHash string) string {
	id := randomToken()
	now := ws.now()
	s := &webSession{key: hashID(id), user: user, tokenHash: tokenHash, csrf: randomToken(), created: now, seen: now}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var oldest *webSession
	mine := 0
	for _, o := range ws.byID {
		if ws.expired(o, now) {
			delete(ws.byID, o.key)
			continue
		}
		if o.user == user {
			mine++
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
	}
	if mine >= maxWebSessionsPerUser {
		delete(ws.byID, oldest.key)
	}
	if len(ws.byID) >= maxWebSessions {
		for _, o := range ws.byID { // any one: all are live, the limit is a backstop
			delete(ws.byID, o.key)
			break
		}
	}
	ws.byID[s.key] = s
	return id
}

func (ws *webSessions) expired(s *webSession, now time.Time) bool {
	return now.Sub(s.seen) >= ws.idle || now.Sub(s.created) >= ws.max
}

// get returns the live session of id (a copy), marking it used now; an
// expired one is ended.
func (ws *webSessions) get(id string) (webSession, bool) {
	if id == "" {
		return webSession{}, false
	}
	key := hashID(id)
	now := ws.now()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	s, ok := ws.byID[key]
	if !ok {
		return webSession{}, false
	}
	if ws.expired(s, now) {
		delete(ws.byID, key)
		return webSession{}, false
	}
	s.seen = now
	return *s, true
}

// end ends the session with the given key (webSession.key).
func (ws *webSessions) end(key string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.byID, key)
}

// signInLimiter limits failed sign-ins per client address: at most limit
// in any window. An attempt takes a slot before its token is checked, so
// concurrent attempts cannot get past the limit; a sign-in that succeeds
// gives its slot back.
type signInLimiter struct {
	now    func() time.Time
	limit  int
	window time.Duration

	mu        sync.Mutex
	fails     map[string][]time.Time
	lastSweep time.Time
}

// signInFailuresPerMinute is how many failed sign-ins one client address
// may make in a minute; the next attempt is refused unchecked.
const signInFailuresPerMinute = 20

func newSignInLimiter(now func() time.Time) *signInLimiter {
	return &signInLimiter{now: now, limit: signInFailuresPerMinute, window: time.Minute, fails: map[string][]time.Time{}}
}

// take reserves an attempt for addr, or reports false if addr has used up
// its failures for now. done(true) returns the slot (the sign-in worked).
func (l *signInLimiter) take(addr string) (done func(ok bool), allowed bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.window { // forget addresses with no recent failure
		for a, ts := range l.fails {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.fails, a)
			}
		}
		l.lastSweep = now
	}
	recent := l.fails[addr][:0]
	for _, t := range l.fails[addr] {
		if now.Sub(t) < l.window {
			recent = append(recent, t)
		}
	}
	l.fails[addr] = recent
	if len(recent) >= l.limit {
		return nil, false
	}
	l.fails[addr] = append(recent, now)
	return func(ok bool) {
		if !ok {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		ts := l.fails[addr]
		for i, t := range ts {
			if t.Equal(now) {
				l.fails[addr] = append(ts[:i:i], ts[i+1:]...)
				break
			}
		}
	}, true
}

// clientAddr is who a sign-in attempt is counted against: the peer's IP
// address, an IPv6 one by its /64 (one host is given a whole /64). The
// live view is served directly, not behind a proxy, so X-Forwarded-For is
// not trusted.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// sameOrigin reports whether a browser sent r from a page of this site.
// Sec-Fetch-Site, where the browser sends it, decides; otherwise Origin,
// then Referer, must name this host (pages set Referrer-Policy
// same-origin, so both are sent to us). A POST with none of the three did
// not come from a browser form and is refused too: the checks are cheap
// to pass for a real page and there is no other client of these forms.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default: // cross-site, same-site (another subdomain), none
		return false
	}
	for _, h := range []string{"Origin", "Referer"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		return err == nil && u.Host != "" && u.Host == r.Host
	}
	return false
}

// sameToken compares a form's CSRF token with the expected one in
// constant time; an empty expected token matches nothing.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
