//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func checkReceipt(t *testing.T, sch *jsonschema.Schema, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("receipt: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("receipt is not JSON: %v\n%s", err, b)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("receipt does not match schema/receipt.schema.json: %v\n%s", err, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// A run cancelled by SIGTERM twice (drain, then cancel), with a setsid'd
// daemon in the job, writes a receipt that validates against its schema,
// says what triggered the cancel and names the daemon; the finalisation
// reads the receipt so far through GRACEFUL_RECEIPT.
func TestRunReceipt(t *testing.T) {
	sch := compileSchema(t, "receipt.schema.json")
	dir := t.TempDir()
	rcpt, fin := filepath.Join(dir, "receipt.json"), filepath.Join(dir, "fin.json")
	h := startRun(t, testPolicy("1s", "3s", `cat "$GRACEFUL_RECEIPT" > `+fin),
		"--receipt", rcpt, "--", "/bin/sh", "-c",
		// ready once the daemon is in a session of its own
		`setsid sh -c 'echo $$ > daemon; exec sleep 1000' & while [ ! -s daemon ]; do sleep 0.01; done; echo ready; wait`)
	h.waitLine("ready")
	h.signal(syscall.SIGTERM)
	h.waitStderr("draining")
	h.signal(syscall.SIGTERM)
	if status, _ := h.wait(); status != 143 {
		t.Errorf("status %d, want 143; stderr:\n%s", status, h.stderr())
	}
	m := checkReceipt(t, sch, rcpt)
	if m["complete"] != true || m["outcome"] != "cancelled" || m["status"] != float64(143) {
		t.Errorf("receipt: complete %v, outcome %v, status %v", m["complete"], m["outcome"], m["status"])
	}
	tr, _ := m["trigger"].(map[string]any)
	if tr["kind"] != "signal" || tr["signal"] != "SIGTERM" || tr["count"] != float64(2) {
		t.Errorf("trigger %v, want the second SIGTERM", tr)
	}
	esc, _ := m["escaped"].([]any)
	found := false
	for _, e := range esc {
		if em, _ := e.(map[string]any); strings.Contains(em["command"].(string), "sleep 1000") && strings.Contains(em["how"].(string), "setsid") {
			found = true
		}
	}
	if !found {
		t.Errorf("the receipt does not name the setsid'd daemon: %v", esc)
	}
	if !strings.Contains(h.stderr(), "escaped the job's process group: sleep 1000") {
		t.Errorf("no escape line on stderr:\n%s", h.stderr())
	}
	f := checkReceipt(t, sch, fin)
	if f["complete"] != false || f["outcome"] != "cancelled" {
		t.Errorf("the finalisation's receipt: complete %v, outcome %v", f["complete"], f["outcome"])
	}
}
