package store_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The framework cache serves a named version without reading the
// database, and the counts by attribute are packed by the positions of the
// definition it serves: once PutFramework has replaced an unused version,
// no read may serve the one it replaced, whatever reads ran meanwhile.
func TestFrameworkCache_NoStaleDefinitionAfterPutFramework(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	_, pdu, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	// Two definitions of one id and version, with different questions.
	a := strings.Replace(string(pdu), `"id": "probation-pdu-2023"`, `"id": "cached"`, 1)
	b := strings.Replace(a, `"id": "M.1"`, `"id": "M.1b"`, 1)
	var defs [2]*framework.Framework
	for i, raw := range []string{a, b} {
		if defs[i], err = framework.Load([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if defs[0].Checksum() == defs[1].Checksum() {
		t.Fatal("the two definitions are the same")
	}
	put := func(i int) {
		t.Helper()
		if err := db.PutFramework(ctx, defs[i], []byte([]string{a, b}[i]), true); err != nil {
			t.Fatal(err)
		}
	}
	put(0)
	for round := range 200 {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					if _, _, err := db.Framework(ctx, "cached", []int{1, 0}[round%2]); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		want := (round + 1) % 2
		put(want)
		stop.Store(true)
		wg.Wait()
		for _, v := range []int{1, 0} {
			fw, raw, err := db.Framework(ctx, "cached", v)
			if err != nil {
				t.Fatal(err)
			}
			if fw.Checksum() != defs[want].Checksum() || string(raw) != []string{a, b}[want] {
				t.Fatalf("round %d: Framework(cached, %d) after PutFramework serves the definition it replaced", round, v)
			}
		}
	}
}
