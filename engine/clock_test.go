package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVirtualClock(t *testing.T) {
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	vc := NewVirtualClock(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+vc.Now().Sub(start).String()) }
	}
	vc.AfterFunc(2*time.Second, at("b"))
	vc.AfterFunc(time.Second, at("a"))
	vc.AfterFunc(2*time.Second, at("c")) // same instant as b: scheduled later, runs later
	stopped := vc.AfterFunc(time.Second, at("never"))
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	timer := vc.NewTimer(3 * time.Second)
	moved := vc.NewTimer(time.Hour)
	moved.Reset(1500 * time.Millisecond)

	vc.Advance(1500 * time.Millisecond)
	select {
	case now := <-moved.C():
		if d := now.Sub(start); d != 1500*time.Millisecond {
			t.Errorf("reset timer fired at %v", d)
		}
	default:
		t.Error("reset timer did not fire")
	}
	vc.Advance(10 * time.Second)
	select {
	case <-timer.C():
	default:
		t.Error("timer did not fire")
	}
	if diff := cmp.Diff([]string{"a@1s", "b@2s", "c@2s"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if d := vc.Now().Sub(start); d != 11500*time.Millisecond {
		t.Errorf("clock reads +%v after advancing 11.5s", d)
	}
	if _, ok := vc.next(); ok {
		t.Error("nothing should be pending")
	}
}

func TestFormatOffset(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 9 * time.Second: "9s", 7500 * time.Millisecond: "7.5s",
		115 * time.Second: "115s", 250 * time.Millisecond: "250ms",
	} {
		if got := FormatOffset(d); got != want {
			t.Errorf("FormatOffset(%v) = %q, want %q", d, got, want)
		}
	}
}
