//go:build linux

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Real --events output matches schema/events.schema.json, line by line:
// a run cancelled by two SIGTERMs, and the simulate goldens.
func TestEventsMatchSchema(t *testing.T) {
	sch := compileSchema(t, "events.schema.json")
	file := filepath.Join(t.TempDir(), "events.jsonl")
	h := startRun(t, testPolicy("300ms", "5s", "true"), append([]string{"--events", file, "--"}, jobArgv("term-exit", "3")...)...)
	h.waitLine("ready")
	h.signalSeen(syscall.SIGTERM, 1)
	h.signalSeen(syscall.SIGTERM, 2)
	if status, _ := h.wait(); status != 3 {
		t.Fatalf("status %d; stderr:\n%s", status, h.stderr())
	}
	goldens, _ := filepath.Glob("testdata/simulate/*.jsonl")
	n := 0
	for _, name := range append([]string{file}, goldens...) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(s.Text()))
			if err != nil {
				t.Fatalf("%s: not JSON: %v: %s", name, err, s.Text())
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s: %v\n%s", name, err, s.Text())
			}
			n++
		}
		f.Close()
	}
	if n < 6 {
		t.Errorf("only %d event lines checked", n)
	}
}
