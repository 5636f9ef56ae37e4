package sqlite

import (
	"errors"
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

// InChunks: every value once, in order, in lists of at most 500, none
// for no values; fn's error stops it.
func TestInChunks(t *testing.T) {
	for _, n := range []int{0, 1, 500, 501, 1234} {
		values := make([]int, n)
		for i := range values {
			values[i] = i
		}
		var got []int
		calls := 0
		err := InChunks(values, func(marks string, args []any) error {
			calls++
			if strings.Count(marks, "?") != len(args) {
				t.Errorf("n=%d: %d marks for %d args", n, strings.Count(marks, "?"), len(args))
			}
			// InList pads with repeats of the last: take each value once.
			for _, a := range args {
				if v := a.(int); len(got) == 0 || v > got[len(got)-1] {
					got = append(got, v)
				}
			}
			if len(args) > 500 {
				t.Errorf("n=%d: a list of %d", n, len(args))
			}
			return nil
		})
		if err != nil || len(got) != n || calls != (n+499)/500 {
			t.Errorf("n=%d: %d values in %d calls, err %v; want %d in %d", n, len(got), calls, err, n, (n+499)/500)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n=%d: value %d is %d", n, i, v)
			}
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := InChunks(make([]int, 1200), func(string, []any) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("an error from fn: %v after %d calls, want it after 1", err, calls)
	}
}
