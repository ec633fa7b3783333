//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes"
	"github.com/graceful-sh/graceful/engine/process"
)

// receiptFile is run's termination receipt: written to --receipt at the
// end, and, when the profile runs commands, to a file they read through
// GRACEFUL_RECEIPT as soon as the outcome is decided (then the document
// says complete: false).
type receiptFile struct {
	sink       *engine.Receipt
	containers []engine.ReceiptContainer // a coordinator's job containers
	path       string                    // "" when neither --receipt nor a command needs one
	temp       bool                      // created for the commands only: removed at the end
}

// newReceiptFile returns nil when there is nothing to write.
func newReceiptFile(p *engine.Profile, name string) (*receiptFile, error) {
	commands := p.Finalize != nil && len(p.Finalize.Command) > 0
	for _, s := range p.Steps {
		commands = commands || s.Kind == engine.StepCommand
	}
	if name == "" && !commands {
		return nil, nil
	}
	r := &receiptFile{sink: engine.NewReceipt(p)}
	if name != "" {
		abs, err := filepath.Abs(name)
		if err != nil {
			return nil, err
		}
		// Created now, so that a bad path fails before the job starts.
		f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, err
		}
		f.Close()
		r.path = abs
	} else {
		f, err := os.CreateTemp("", "graceful-receipt-*.json")
		if err != nil {
			return nil, err
		}
		f.Close()
		r.path, r.temp = f.Name(), true
	}
	// Written on the core's goroutine as the outcome is decided, before
	// the finalisation starts: one small write to a file created above.
	r.sink.OnDecided = func(d engine.ReceiptDoc) { _ = writeJSON(r.path, d) }
	return r, nil
}

func (r *receiptFile) env() []string {
	if r == nil {
		return nil
	}
	return []string{"GRACEFUL_RECEIPT=" + r.path}
}

// finish writes the final receipt (unless it was only for the commands).
func (r *receiptFile) finish(res engine.Result, out *outputs, escaped []process.Escape) error {
	if r == nil || r.temp {
		return nil
	}
	lost := out.stderr.Lost()
	if out.events != nil {
		lost += out.events.Lost()
	}
	esc := make([]engine.ReceiptEscape, 0, len(escaped))
	for _, e := range escaped {
		esc = append(esc, engine.ReceiptEscape{PID: e.PID, Command: e.Command, How: e.How})
	}
	doc := r.sink.Doc(res, lost, esc)
	doc.Containers = r.containers
	return writeJSON(r.path, doc)
}

// podContainers turns a coordinator's summary into the receipt's
// containers.
func podContainers(statuses []kubernetes.ContainerStatus, receipts [][]byte) []engine.ReceiptContainer {
	out := make([]engine.ReceiptContainer, 0, len(statuses))
	for i, st := range statuses {
		c := engine.ReceiptContainer{Name: st.Name, State: string(st.State), Status: st.Exit.Status(), Reason: st.Reason}
		if i < len(receipts) && receipts[i] != nil {
			c.Receipt = receipts[i]
		}
		out = append(out, c)
	}
	return out
}

func (r *receiptFile) cleanup() {
	if r != nil && r.temp {
		os.Remove(r.path)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
