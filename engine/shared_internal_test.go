package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSharedQueue checks the clock's heap against a plain map through a
// long random run of pushes, moves, removals and pops, slots reused.
func TestSharedQueue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q sharedQueue
	want := map[*machine]time.Duration{} // machines in the heap and their keys
	var all []*machine
	for range 200 {
		all = append(all, &machine{shared: sharedLinks{entry: sharedEntry{slot: -1}}})
	}
	check := func() {
		t.Helper()
		if q.len() != len(want) {
			t.Fatalf("heap holds %d, want %d", q.len(), len(want))
		}
		for i, it := range q.items {
			if int(q.pos[it.slot]) != i {
				t.Fatalf("pos[%d] = %d, item at %d", it.slot, q.pos[it.slot], i)
			}
			if m := q.slots[it.slot]; m.shared.entry.slot != it.slot || want[m] != it.at {
				t.Fatalf("item %d: slot %d, key %v; machine says slot %d, want key %v", i, it.slot, it.at, m.shared.entry.slot, want[m])
			}
			if p := (i - 1) / 2; i > 0 && q.items[p].at > it.at {
				t.Fatalf("heap order broken at %d", i)
			}
		}
		for _, m := range all {
			if _, in := want[m]; !in && m.shared.entry.slot != -1 {
				t.Fatalf("a machine out of the heap says slot %d", m.shared.entry.slot)
			}
		}
	}
	for range 20000 {
		m := all[r.IntN(len(all))]
		at := time.Duration(r.IntN(1000))
		switch _, in := want[m]; {
		case !in && r.IntN(2) == 0:
			q.push(m, at)
			want[m] = at
		case in && r.IntN(3) == 0:
			q.fix(m, at)
			want[m] = at
		case in && r.IntN(3) == 0:
			q.remove(m)
			delete(want, m)
		case q.len() > 0:
			var keys []time.Duration
			for _, k := range want {
				keys = append(keys, k)
			}
			got := q.pop()
			if min := slices.Min(keys); want[got] != min || got.shared.entry.slot != -1 {
				t.Fatalf("pop gave key %v (slot %d), want the minimum %v", want[got], got.shared.entry.slot, min)
			}
			delete(want, got)
		}
		check()
	}
	if n := len(q.slots); n > len(all) {
		t.Errorf("%d slots for %d machines: freed slots are not reused", n, len(all))
	}
}
