package engine

import "testing"

func TestSignalNamesAreInNumberOrder(t *testing.T) {
	names := SignalNames()
	if len(names) != 31 {
		t.Fatalf("%d signal names, want the 31 standard Linux signals", len(names))
	}
	for i, name := range names {
		if n := SignalNumber(name); n != i+1 {
			t.Errorf("SignalNames()[%d] = %s, which is signal %d", i, name, n)
		}
	}
	if names[14] != "SIGTERM" {
		t.Errorf("signal 15 is %s, want SIGTERM", names[14])
	}
}
