package engine

import (
	"testing"
	"time"
)

func TestKernelTimer(t *testing.T) {
	start := time.Now()
	tm := newKernelTimer(20 * time.Millisecond)
	if tm == nil {
		t.Skip("no timerfd here")
	}
	defer closeTimer(tm)
	select {
	case at := <-tm.C():
		if d := at.Sub(start); d < 20*time.Millisecond {
			t.Errorf("fired after %v, before its 20ms", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a 20ms kernel timer did not fire in 10s")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reports it pending")
	}
	tm.Reset(time.Hour)
	if !tm.Stop() {
		t.Error("Stop of an armed timer reports it not pending")
	}
	select {
	case <-tm.C():
		t.Error("a stopped timer fired")
	case <-time.After(50 * time.Millisecond):
	}
	tm.Reset(0) // at once
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("Reset(0) did not fire")
	}
}

// The loop timer of an engine on a PreciseClock is a kernel timer, and on
// any other clock the clock's own.
func TestLoopTimerKind(t *testing.T) {
	k := loopTimer(PreciseClock{}, time.Hour)
	defer closeTimer(k)
	if _, ok := k.(*kernelTimer); !ok {
		t.Errorf("PreciseClock's loop timer is %T, want *kernelTimer", k)
	}
	r := loopTimer(RealClock{}, time.Hour)
	defer closeTimer(r)
	if _, ok := r.(realTimer); !ok {
		t.Errorf("RealClock's loop timer is %T, want realTimer", r)
	}
}
