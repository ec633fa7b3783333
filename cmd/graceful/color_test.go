//go:build linux

package main

import (
	"bytes"
	"testing"

	"github.com/creack/pty"
)

// TestTerminalStyle: diagnostics on a terminal are coloured unless
// NO_COLOR is set or TERM is "dumb"; off a terminal never.
func TestTerminalStyle(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		term      string
		noColor   string
		wantColor bool
	}{
		{"a terminal", "xterm-256color", "", true},
		{"no TERM at all", "", "", true},
		{"NO_COLOR set", "xterm-256color", "1", false},
		{"TERM=dumb", "dumb", "", false},
		{"both", "dumb", "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TERM", tt.term)
			t.Setenv("NO_COLOR", tt.noColor)
			width, color := terminalStyle(tty)
			if width != 100 || color != tt.wantColor {
				t.Errorf("width %d, colour %v; want 100, %v", width, color, tt.wantColor)
			}
		})
	}
	t.Run("not a terminal", func(t *testing.T) {
		t.Setenv("TERM", "xterm-256color")
		t.Setenv("NO_COLOR", "")
		if width, color := terminalStyle(&bytes.Buffer{}); width != 0 || color {
			t.Errorf("width %d, colour %v; want 0, false", width, color)
		}
	})
}
