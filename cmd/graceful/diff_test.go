package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"equal texts give nothing", "a\nb\n", "a\nb\n", ""},
		{"one line changed amid context",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- o\n+++ n\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"changes far apart are two hunks",
			"a\n1\n2\n3\n4\n5\n6\n7\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\nB\n",
			"--- o\n+++ n\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -6,4 +6,4 @@\n 5\n 6\n 7\n-b\n+B\n"},
		{"changes six lines apart share a hunk",
			"a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n",
			"--- o\n+++ n\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n"},
		{"lines added to an empty file",
			"", "a\nb\n",
			"--- o\n+++ n\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"all lines removed",
			"a\nb\n", "",
			"--- o\n+++ n\n@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"a line inserted after the first",
			"a\nc\n", "a\nb\nc\n",
			"--- o\n+++ n\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"},
		{"a missing final newline is marked",
			"a\nb", "a\nb\n",
			"--- o\n+++ n\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			unifiedDiff(&b, "o", "n", []byte(tt.old), []byte(tt.new))
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnifiedDiffApplies: for random edits, applying the diff's hunks to
// the old text gives the new one, and the hunk headers count their lines
// right.
func TestUnifiedDiffApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 500 {
		var old []string
		for range r.IntN(30) {
			old = append(old, strconv.Itoa(r.IntN(6))+"\n")
		}
		new := append([]string(nil), old...)
		for range r.IntN(5) {
			i := r.IntN(len(new) + 1)
			switch r.IntN(3) {
			case 0:
				new = append(new[:i], append([]string{"x" + strconv.Itoa(r.IntN(3)) + "\n"}, new[i:]...)...)
			case 1:
				if i < len(new) {
					new = append(new[:i], new[i+1:]...)
				}
			default:
				if i < len(new) {
					new[i] = "y\n"
				}
			}
		}
		a, b := strings.Join(old, ""), strings.Join(new, "")
		var d bytes.Buffer
		unifiedDiff(&d, "o", "n", []byte(a), []byte(b))
		got, err := applyDiff(a, d.String())
		if err != nil || got != b {
			t.Fatalf("case %d: %v\nold %q\nnew %q\ndiff:\n%s\napplied %q", n, err, a, b, d.String(), got)
		}
	}
}

// applyDiff applies a unified diff of whole lines ending in newlines.
func applyDiff(old, diff string) (string, error) {
	if diff == "" {
		return old, nil
	}
	a := splitLines(old)
	lines := splitLines(diff)[2:] // the --- and +++ header
	var out []string
	next := 0 // the next line of a to copy
	for len(lines) > 0 {
		h := strings.TrimSpace(lines[0])
		f := strings.Fields(h)
		if len(f) != 4 || f[0] != "@@" || f[3] != "@@" {
			return "", fmt.Errorf("hunk header %q", h)
		}
		as, al, err1 := hunkHeaderRange(f[1], "-")
		bs, bl, err2 := hunkHeaderRange(f[2], "+")
		if err1 != nil || err2 != nil {
			return "", fmt.Errorf("hunk header %q", h)
		}
		lines = lines[1:]
		start := as - 1
		if al == 0 {
			start = as
		}
		out = append(out, a[next:start]...)
		next = start
		var gotA, gotB int
		for len(lines) > 0 && !strings.HasPrefix(lines[0], "@@") {
			l := lines[0]
			lines = lines[1:]
			switch l[0] {
			case ' ':
				if a[next] != l[1:] {
					return "", fmt.Errorf("context %q is not line %d %q", l, next+1, a[next])
				}
				out = append(out, l[1:])
				next++
				gotA++
				gotB++
			case '-':
				if a[next] != l[1:] {
					return "", fmt.Errorf("removed %q is not line %d %q", l, next+1, a[next])
				}
				next++
				gotA++
			case '+':
				out = append(out, l[1:])
				gotB++
			}
		}
		if gotA != al || gotB != bl || len(out)-gotB+1 != max(bs, 1) && bl > 0 {
			return "", fmt.Errorf("hunk %q has %d and %d lines, starts new at %d", h, gotA, gotB, len(out)-gotB+1)
		}
	}
	return strings.Join(append(out, a[next:]...), ""), nil
}

// hunkHeaderRange reads "-START,LEN" or "-START" (LEN 1).
func hunkHeaderRange(s, sign string) (start, n int, err error) {
	s, ok := strings.CutPrefix(s, sign)
	if !ok {
		return 0, 0, fmt.Errorf("no %s", sign)
	}
	st, ln, hasLen := strings.Cut(s, ",")
	if start, err = strconv.Atoi(st); err != nil {
		return 0, 0, err
	}
	n = 1
	if hasLen {
		n, err = strconv.Atoi(ln)
	}
	return start, n, err
}
