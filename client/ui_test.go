package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// oddRef is a case reference with every character a link must encode.
const oddRef = "GW/001 #a?b%"

// offlineStore is a real client store holding one inspection of the built-in
// framework with cases T-1 and oddRef assigned to insp.a, as a sync leaves
// it. Opened fresh, its framework cache is empty.
func offlineStore(t *testing.T) (*store.Local, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "client.db")
	l, err := store.OpenLocal(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fws, raws, err := framework.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutFramework(ctx, fws[0].ID, fws[0].Version, raws[0]); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "Test", FrameworkID: fws[0].ID, FrameworkVersion: fws[0].Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	changes := []framework.Change{{InspectionID: "I", Inspection: in}}
	for _, ref := range []string{"T-1", oddRef} {
		changes = append(changes, framework.Change{InspectionID: "I", Case: &framework.Case{Ref: ref, Inspector: "insp.a", Status: framework.CaseInProgress,
			Attributes: map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium",
				"mappa": "none", "pdu": "Test", "contact_suspended": "false"}}})
	}
	if err := l.ApplyChanges(ctx, changes, int64(len(changes))); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// Reopened: nothing of the framework is cached yet.
	l, err = store.OpenLocal(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// uiSession serves a UI over loopback HTTP and signs an HTTP client in
// through a one-time start address.
func uiSession(t *testing.T, l *store.Local) (*client.UI, *httptest.Server, *http.Client) {
	t.Helper()
	ui := client.NewUI(client.New(nil, l), l, "insp.a")
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	// Not following the start page on: the caller decides what loads first.
	first := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := first.Get(ui.StartURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("start: %s", resp.Status)
	}
	return ui, srv, &http.Client{Jar: jar}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// getPage GETs a page and returns its body and CSRF token.
func getPage(t *testing.T, hc *http.Client, u string) (string, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Error(err)
		return "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s\n%.300s", u, resp.Status, b)
	}
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		return string(b), ""
	}
	return string(b), m[1]
}

// The form's handlers share one client store; several requests at once
// (the browser loads a page while autosaves are in flight) must not race.
// Run with -race: each round opens the store afresh, so the requests,
// released together, all find its framework cache empty.
func TestUIHandlersConcurrently(t *testing.T) {
	_, path := offlineStore(t)
	questions := []string{"2.1.1", "2.1.2", "2.1.3", "2.2.1", "2.2.3b", "2.3.3c"}
	for round := range 3 {
		l, err := store.OpenLocal(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		_, srv, hc := uiSession(t, l)
		hc.Transport = &http.Transport{MaxIdleConnsPerHost: 2 * len(questions)}
		caseURL := srv.URL + "/inspections/I/cases/T-1"
		// The conflicts page needs no framework; loading it on every
		// connection first keeps them open for the burst below.
		var warm sync.WaitGroup
		tokens := make([]string, 2*len(questions))
		for i := range tokens {
			warm.Go(func() { _, tokens[i] = getPage(t, hc, srv.URL+"/conflicts") })
		}
		warm.Wait()
		csrf := tokens[0]
		if csrf == "" {
			t.Fatal("no CSRF token on the conflicts page")
		}
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i, q := range questions {
			wg.Go(func() {
				<-gate
				getPage(t, hc, caseURL)
			})
			wg.Go(func() {
				<-gate
				form := url.Values{"csrf": {csrf}, "v-" + q: {"yes"}, "n-" + q: {fmt.Sprintf("note %d.%d", round, i)}}
				resp, err := hc.PostForm(caseURL, form)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("save %s: %s %.300s", q, resp.Status, b)
				}
			})
		}
		close(gate)
		wg.Wait()
		as, err := l.Answers(context.Background(), "I", "T-1")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range as {
			got[a.QuestionID] = a.Value + "|" + a.Note
		}
		for i, q := range questions {
			if want := fmt.Sprintf("yes|note %d.%d", round, i); got[q] != want {
				t.Errorf("round %d: %s = %q, want %q", round, q, got[q], want)
			}
		}
		if n, _ := l.PendingCount(context.Background()); n != (round+1)*len(questions) {
			t.Errorf("round %d: outbox holds %d ops, want %d", round, n, (round+1)*len(questions))
		}
		srv.Close()
		l.Close()
	}
}
