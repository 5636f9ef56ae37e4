package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// A file a newer build migrated further than this build knows is refused
// with "update fieldwork" and left as it is; one this build knows opens.
func TestOpenRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "db.sqlite")
	newer := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"m/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER);")},
	}
	c, err := Open(ctx, file, newer, "m")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	older := fstest.MapFS{"m/0001_a.sql": newer["m/0001_a.sql"]}
	if c, err := Open(ctx, file, older, "m"); err == nil || !strings.Contains(err.Error(), "update fieldwork") || !strings.Contains(err.Error(), "schema 2") {
		if c != nil {
			c.Close()
		}
		t.Fatalf("older build on a newer file: %v, want \"update fieldwork … schema 2\"", err)
	}
	c, err = Open(ctx, file, newer, "m")
	if err != nil {
		t.Fatalf("the newer build again: %v", err)
	}
	c.Close()
}
