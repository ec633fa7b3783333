package main

import (
	"fmt"
	"io"
	"strings"
)

// diffContext is how many unchanged lines a hunk shows around a change,
// as diff -u does.
const diffContext = 3

// maxDiffCells bounds the longest-common-subsequence table (lines of the
// old file times lines of the new one); past it the whole file is shown as
// replaced, which is still a correct diff. Policy files are far smaller.
const maxDiffCells = 16 << 20

// unifiedDiff writes the unified diff (diff -u) that turns old into new,
// with oldName and newName in its header, or nothing when they are equal.
func unifiedDiff(w io.Writer, oldName, newName string, old, new []byte) {
	if string(old) == string(new) {
		return
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffLines(a, b)

	fmt.Fprintf(w, "--- %s\n+++ %s\n", oldName, newName)
	// Walk the edit script, cutting it into hunks: runs of changes with
	// at most 2*diffContext equal lines between them.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, run)
				break
			}
			end = run
		}
		writeHunk(w, ops[start:end])
		i = end
	}
}

// diffOp is one line of an edit script: ' ' kept, '-' removed, '+' added.
// aLine and bLine are the line's numbers (from 1) in the old and new text,
// or the number of the line before it where it is absent.
type diffOp struct {
	kind         byte
	text         string
	aLine, bLine int
}

func writeHunk(w io.Writer, ops []diffOp) {
	// A side's range starts at its first line in the hunk; an empty side
	// is numbered by the line before it, as diff -u does (an added line's
	// aLine, a removed line's bLine).
	aStart, aLen, bStart, bLen := ops[0].aLine, 0, ops[0].bLine, 0
	for _, op := range ops {
		if op.kind != '+' {
			if aLen == 0 {
				aStart = op.aLine
			}
			aLen++
		}
		if op.kind != '-' {
			if bLen == 0 {
				bStart = op.bLine
			}
			bLen++
		}
	}
	fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, op := range ops {
		text, ok := strings.CutSuffix(op.text, "\n")
		fmt.Fprintf(w, "%c%s\n", op.kind, text)
		if !ok {
			fmt.Fprintln(w, `\ No newline at end of file`)
		}
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// splitLines splits s after each newline; the last line may lack one.
func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// diffLines returns an edit script from a to b that keeps a longest common
// subsequence of lines, removals before additions within a change.
func diffLines(a, b []string) []diffOp {
	// Common head and tail cost nothing and shrink the table.
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]

	var ops []diffOp
	ai, bi := 0, 0 // lines of a and b emitted so far
	keep := func(s string) { ai++; bi++; ops = append(ops, diffOp{' ', s, ai, bi}) }
	del := func(s string) { ai++; ops = append(ops, diffOp{'-', s, ai, bi}) }
	add := func(s string) { bi++; ops = append(ops, diffOp{'+', s, ai, bi}) }

	for _, s := range a[:head] {
		keep(s)
	}
	if len(ma)*len(mb) > maxDiffCells {
		for _, s := range ma {
			del(s)
		}
		for _, s := range mb {
			add(s)
		}
	} else {
		// lcs[i][j]: length of the longest common subsequence of ma[i:]
		// and mb[j:].
		lcs := make([][]int, len(ma)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(mb)+1)
		}
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				keep(ma[i])
				i++
				j++
			case j == len(mb) || i < len(ma) && lcs[i+1][j] >= lcs[i][j+1]:
				del(ma[i])
				i++
			default:
				add(mb[j])
				j++
			}
		}
	}
	for _, s := range a[len(a)-tail:] {
		keep(s)
	}
	return ops
}
