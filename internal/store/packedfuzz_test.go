package store

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// A short row claiming the most questions a row may have is refused
// before room is made for them: a row of an inspection that no longer
// exists is read by its own count of questions (recount's orphans), and
// reserving 2^20 questions' counts for a few bytes was 25 MB a row.
func TestPackedRow_ShortRowClaimingManyQuestionsAllocatesLittle(t *testing.T) {
	blob := binary.AppendUvarint([]byte{packFormat}, 1<<20)
	blob = append(blob, 0, 0, 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var r breakdownRow
	_, err := unpackInto(&r, blob, -1)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a row of 2^20 questions in 6 bytes was read")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<16 {
		t.Errorf("reading it allocated %d bytes; want it refused first", grew)
	}
}

// FuzzUnpackInto: no input panics unpackInto; whatever it reads, packed
// again, reads back the same.
func FuzzUnpackInto(f *testing.F) {
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		f.Fatal(err)
	}
	good, err := mergeBreakdown(fw, nil, map[qv]int{{"2.1.1", "yes"}: 3, {"2.3.S1", "4"}: 2, {"2.3.S1", "12"}: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{packFormat, 1, 0, 2, 4, 1, 0, 1, '7', 2})
	f.Add(pastTheEnd(3))
	f.Add([]byte{packFormat, 0x80, 0x80, 0x40})
	f.Fuzz(func(t *testing.T, packed []byte) {
		var r breakdownRow
		q, err := unpackInto(&r, packed, -1)
		if err != nil || len(packed) == 0 { // no row: nothing to pack again
			return
		}
		var again breakdownRow
		if _, err := unpackInto(&again, r.pack(q), q); err != nil {
			t.Fatalf("a row read could not be read once packed again: %v", err)
		}
		want, got := map[posValue]int{}, map[posValue]int{}
		r.each(nil, func(q, v string, n int) { want[posValue{len(q), q + "\x00" + v}] = n })
		again.each(nil, func(q, v string, n int) { got[posValue{len(q), q + "\x00" + v}] = n })
		if len(want) != len(got) {
			t.Fatalf("packed again: %v, read %v", got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("packed again: %v, read %v", got, want)
			}
		}
	})
}
