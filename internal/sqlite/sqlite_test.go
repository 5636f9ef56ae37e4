package sqlite

import (
	"strings"
	"testing"
)

// InsertMany's statements: the rows in order, at most two statements
// beyond the full ones, and few distinct lengths (each is a cached
// prepared statement).
func TestChunkLen(t *testing.T) {
	lengths := map[int]bool{}
	for n := 1; n <= 1300; n++ {
		left, partial := n, 0
		for left > 0 {
			k := chunkLen(left)
			if k <= 0 || k > left || k > 400 {
				t.Fatalf("n=%d: chunk of %d with %d left", n, k, left)
			}
			if k < 400 {
				partial++
			}
			lengths[k] = true
			left -= k
		}
		if partial > 2 {
			t.Errorf("n=%d: %d statements short of 400 rows, want at most 2", n, partial)
		}
	}
	if len(lengths) > 40 {
		t.Errorf("%d distinct statement lengths, want at most 40", len(lengths))
	}
}

func TestInList(t *testing.T) {
	for _, n := range []int{1, 19, 20, 21, 500} {
		values := make([]any, n)
		for i := range values {
			values[i] = i
		}
		marks, args := InList(values)
		want := (n + 19) / 20 * 20
		if len(args) != want || strings.Count(marks, "?") != want {
			t.Errorf("n=%d: %d args, %d marks; want %d of each", n, len(args), strings.Count(marks, "?"), want)
		}
		for i, a := range args {
			if w := min(i, n-1); a != w {
				t.Errorf("n=%d: arg %d = %v, want %d", n, i, a, w)
				break
			}
		}
	}
}
