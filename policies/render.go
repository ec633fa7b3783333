package policies

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostics are bounded so that their output grows with the mistakes
// shown, not with the file: hcl's text writer scans the whole file for
// every diagnostic and prints every line a range touches, so 1,600
// diagnostics on a 54 KB file took 13 s to render, and binary input made
// 106 MB of them. Control bytes from the file never reach the terminal.

// maxDiagnosticsPerFile is how many diagnostics of one file are shown; the
// rest are counted in one more.
const maxDiagnosticsPerFile = 20

// maxSnippet is the most source bytes a diagnostic's snippet shows; a
// longer range is cut to a window around its start.
const maxSnippet = 1024

// capDiagnostics keeps the first maxDiagnosticsPerFile diagnostics of each
// file (in the order given) and says how many of each severity it left out.
func capDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type omitted struct {
		errors, warnings int
		first            *hcl.Range
	}
	shown := map[string]int{}
	var left map[string]*omitted
	var order []string
	out := diags[:0:0]
	for _, d := range diags {
		file := ""
		if d.Subject != nil {
			file = d.Subject.Filename
		}
		if shown[file] < maxDiagnosticsPerFile {
			shown[file]++
			out = append(out, d)
			continue
		}
		if left == nil {
			left = map[string]*omitted{}
		}
		o := left[file]
		if o == nil {
			o = &omitted{first: d.Subject}
			left[file] = o
			order = append(order, file)
		}
		if d.Severity == hcl.DiagError {
			o.errors++
		} else {
			o.warnings++
		}
	}
	for _, file := range order {
		o := left[file]
		sev := hcl.DiagError
		if o.errors == 0 {
			sev = hcl.DiagWarning
		}
		where := "without a position"
		if file != "" {
			where = "in " + file
		}
		out = append(out, &hcl.Diagnostic{
			Severity: sev,
			Summary:  "Too many diagnostics",
			Detail:   fmt.Sprintf("%s and %s more %s are not shown, from here on. Fix the ones above and check again.", plural(o.errors, "error"), plural(o.warnings, "warning"), where),
			Subject:  o.first,
		})
	}
	return out
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}

// cleanDiagnostics escapes control characters in every summary and
// detail, so that each output (text, JSON, CI annotations) is safe to
// print whatever the file held.
func cleanDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		d.Summary, d.Detail = cleanText(d.Summary), cleanText(d.Detail)
	}
	return diags
}

// cleanText escapes control characters in a diagnostic's summary or detail
// (keeping line breaks), so that file contents quoted in a message cannot
// drive the terminal.
func cleanText(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) && r != '\n' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) && r != '\n' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports C0 and C1 control characters and DEL, tab excepted.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0)
}

// cleanSource returns src with every control byte replaced by '?', byte
// for byte so that ranges stay valid (C1 controls are two bytes in UTF-8
// and become "??"); tabs and line ends stay.
func cleanSource(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		n := 0
		switch {
		case c == '\r' && (i+1 == len(src) || src[i+1] == '\n'):
		case c < 0x20 && c != '\t' && c != '\n', c == 0x7f:
			n = 1
		case c == 0xc2 && i+1 < len(src) && src[i+1] >= 0x80 && src[i+1] < 0xa0:
			n = 2
		}
		if n == 0 {
			continue
		}
		if out == nil {
			out = append([]byte{}, src...)
		}
		for k := range n {
			out[i+k] = '?'
		}
		i += n - 1
	}
	if out == nil {
		return src
	}
	return out
}

// shiftedNav gives hcl's writer the "in profile X" context of a fragment:
// offsets within the fragment are offsets in the file plus off.
type shiftedNav struct {
	nav interface{ ContextString(offset int) string }
	off int
}

func (n shiftedNav) ContextString(offset int) string { return n.nav.ContextString(offset + n.off) }

// fragment returns a copy of d whose ranges point into a small file that
// holds only the source d shows, that file, and the number of lines of
// the real file before it. ok is false when d shows no source.
func fragment(f *hcl.File, d *hcl.Diagnostic) (fd *hcl.Diagnostic, frag *hcl.File, before int, ok bool) {
	src := f.Bytes
	s := *d.Subject
	if s.Start.Byte < 0 || s.Start.Byte > len(src) || s.End.Byte < s.Start.Byte {
		return nil, nil, 0, false
	}
	s.End.Byte = min(s.End.Byte, len(src))
	lo, hi := s.Start.Byte, s.End.Byte
	var ctxRange *hcl.Range
	if c := d.Context; c != nil && c.Filename == s.Filename && c.Start.Byte >= 0 && c.End.Byte <= len(src) && c.End.Byte-c.Start.Byte <= maxSnippet {
		ctxRange = c
		lo, hi = min(lo, c.Start.Byte), max(hi, c.End.Byte)
	}
	// Whole lines, as the writer shows them.
	start := bytes.LastIndexByte(src[:lo], '\n') + 1
	end := len(src)
	if i := bytes.IndexByte(src[hi:], '\n'); i >= 0 {
		end = hi + i
	}
	startLine := s.Start.Line
	if ctxRange != nil {
		startLine = min(startLine, ctxRange.Start.Line)
	}
	prefix, suffix := "", ""
	if end-start > maxSnippet {
		// A long line or range: a window from shortly before the subject,
		// on the subject's first line.
		ctxRange = nil
		startLine = s.Start.Line
		lineEnd := len(src)
		if i := bytes.IndexByte(src[s.Start.Byte:], '\n'); i >= 0 {
			lineEnd = s.Start.Byte + i
		}
		start = max(bytes.LastIndexByte(src[:s.Start.Byte], '\n')+1, s.Start.Byte-maxSnippet/4)
		for start < s.Start.Byte && !utf8.RuneStart(src[start]) {
			start++
		}
		end = min(lineEnd, start+maxSnippet)
		for end > s.Start.Byte && end < len(src) && !utf8.RuneStart(src[end]) {
			end--
		}
		if start > 0 && src[start-1] != '\n' {
			prefix = "..."
		}
		if end < lineEnd {
			suffix = "..."
		}
	}
	body := cleanSource(src[start:end])
	b := make([]byte, 0, len(prefix)+len(body)+len(suffix))
	b = append(append(append(b, prefix...), body...), suffix...)
	off := start - len(prefix)
	shift := func(r hcl.Range) *hcl.Range {
		r.Start.Byte = min(max(r.Start.Byte-off, len(prefix)), len(prefix)+len(body))
		r.End.Byte = min(max(r.End.Byte-off, r.Start.Byte), len(prefix)+len(body))
		r.Start.Line -= startLine - 1
		r.End.Line -= startLine - 1
		return &r
	}
	c := *d
	c.Subject = shift(s)
	c.Context = nil
	if ctxRange != nil {
		c.Context = shift(*ctxRange)
	}
	frag = &hcl.File{Bytes: b}
	if cs, ok := f.Nav.(interface{ ContextString(offset int) string }); ok {
		frag.Nav = shiftedNav{cs, off}
	}
	return &c, frag, startLine - 1, true
}

// RenderDiagnostics renders diags against the parsed files (for the
// snippets) as hcl's text writer does, with its "on FILE line N" made the
// more useful "on FILE:LINE:COLUMN". width 0 means no wrapping. Snippets
// show at most about 1 KiB of source each, with control characters
// replaced by "?"; summaries and details have them escaped.
func RenderDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) string {
	var out, buf bytes.Buffer
	for _, d := range diags {
		buf.Reset()
		c := *d
		c.Summary, c.Detail = cleanText(d.Summary), cleanText(d.Detail)
		if c.Expression != nil && c.EvalContext != nil && largeRefs(c.Expression, c.EvalContext) {
			// The writer would quote every referenced value in full.
			c.EvalContext = nil
		}
		fs, before := map[string]*hcl.File(nil), 0
		if s := d.Subject; s != nil {
			if f := files[s.Filename]; f != nil && f.Bytes != nil {
				if fd, frag, n, ok := fragment(f, &c); ok {
					c, fs, before = *fd, map[string]*hcl.File{s.Filename: frag}, n
				}
			}
		}
		wr := hcl.NewDiagnosticTextWriter(&buf, fs, width, color)
		_ = wr.WriteDiagnostic(&c) // a bytes.Buffer does not fail
		text := buf.String()
		if s := d.Subject; s != nil {
			onLine := fmt.Sprintf("  on %s line %d", s.Filename, c.Subject.Start.Line)
			text = strings.Replace(text, onLine, fmt.Sprintf("  on %s:%d:%d", cleanText(s.Filename), s.Start.Line, s.Start.Column), 1)
			if before > 0 {
				text = renumber(text, before)
			}
		}
		out.WriteString(text)
	}
	return out.String()
}

// largeRefs reports whether expr refers to a value too large to quote in
// a diagnostic.
func largeRefs(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	for _, tr := range expr.Variables() {
		if v, diags := tr.TraverseAbs(ctx); !diags.HasErrors() && valueSize(v, maxSnippet/4) > maxSnippet/4 {
			return true
		}
	}
	return false
}

// renumber adds before to the line numbers of a rendered snippet (the
// "%4d: " lines right after the "  on FILE:LINE:COLUMN" line).
func renumber(text string, before int) string {
	lines := strings.SplitAfter(text, "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "  on ") {
		i++
	}
	for i++; i < len(lines); i++ {
		num, rest, ok := strings.Cut(lines[i], ": ")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || len(num) < 4 {
			break
		}
		lines[i] = fmt.Sprintf("%4d: %s", n+before, rest)
	}
	return strings.Join(lines, "")
}
