package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"

	"github.com/graceful-sh/graceful/policies"
)

// validateFormats are the values of validate --format.
var validateFormats = []string{"text", "json", "github"}

// jsonReport is the whole output of validate -json. Its shape is the one
// terraform validate -json documents (format_version "1.0"), so tools that
// read terraform's report (terraform-json, editor integrations, reviewdog
// converters) read graceful's. Files and Profiles are graceful's own
// additions; terraform's format tells consumers to ignore properties they
// do not know.
type jsonReport struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
	Files         []string         `json:"files"`
	Profiles      []string         `json:"profiles"`
}

// jsonFormatVersion is terraform's validate format version that
// jsonReport follows.
const jsonFormatVersion = "1.0"

// jsonDiagnostic is one diagnostic of validate -json. Range and Snippet
// are absent for a diagnostic without a position (an unreadable path).
type jsonDiagnostic struct {
	Severity string       `json:"severity"` // "error" or "warning"
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

// jsonPos is a position: line and column count from 1, byte from 0.
type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// jsonSnippet is the source of a diagnostic's range: the whole lines it
// spans (Code, the first of them at StartLine) and where in Code the range
// is, in characters from 0. Context names the block it is in (`profile
// "x"`), or is null. Values is always empty: policies have no expression
// values worth showing, but terraform's readers expect the array.
type jsonSnippet struct {
	Context              *string          `json:"context"`
	Code                 string           `json:"code"`
	StartLine            int              `json:"start_line"`
	HighlightStartOffset int              `json:"highlight_start_offset"`
	HighlightEndOffset   int              `json:"highlight_end_offset"`
	Values               []jsonValueEntry `json:"values"`
}

// jsonValueEntry is an expression value in a snippet, as terraform
// describes one.
type jsonValueEntry struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

func writeDiagnosticsJSON(w io.Writer, pol *policies.Policy, files []string, diags hcl.Diagnostics) error {
	rep := jsonReport{
		FormatVersion: jsonFormatVersion,
		Files:         files, Profiles: []string{}, Diagnostics: []jsonDiagnostic{},
	}
	if rep.Files == nil {
		rep.Files = []string{}
	}
	for _, p := range pol.Profiles() {
		rep.Profiles = append(rep.Profiles, p.Name)
	}
	hf := pol.HCLFiles()
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			rep.ErrorCount++
		} else {
			jd.Severity = "warning"
			rep.WarningCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &jsonRange{
				Filename: s.Filename,
				Start:    jsonPos{s.Start.Line, s.Start.Column, s.Start.Byte},
				End:      jsonPos{s.End.Line, s.End.Column, s.End.Byte},
			}
			if f := hf[s.Filename]; f != nil {
				jd.Snippet = snippetOf(f, *s)
			}
		}
		rep.Diagnostics = append(rep.Diagnostics, jd)
	}
	rep.Valid = rep.ErrorCount == 0
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<builtin>/process.hcl", "a -> b", not \u003c...
	return enc.Encode(rep)
}

// snippetOf returns the snippet of r in f, or nil when r is not inside
// f's source.
func snippetOf(f *hcl.File, r hcl.Range) *jsonSnippet {
	src := f.Bytes
	if r.Start.Byte < 0 || r.End.Byte < r.Start.Byte || r.End.Byte > len(src) {
		return nil
	}
	// The whole lines the range touches.
	first := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	last := len(src)
	if i := bytes.IndexByte(src[r.End.Byte:], '\n'); i >= 0 {
		last = r.End.Byte + i
	}
	if r.End.Byte > r.Start.Byte && src[r.End.Byte-1] == '\n' {
		// A range that ends with its line's newline ends on that line.
		last = r.End.Byte - 1
	}
	code := strings.TrimSuffix(string(src[first:last]), "\r")
	sn := &jsonSnippet{
		Code:                 code,
		StartLine:            r.Start.Line,
		HighlightStartOffset: utf8.RuneCount(src[first:r.Start.Byte]),
		HighlightEndOffset:   utf8.RuneCount(src[first:min(r.End.Byte, first+len(code))]),
		Values:               []jsonValueEntry{},
	}
	if c := hcled.ContextString(f, r.Start.Byte); c != "" {
		sn.Context = &c
	}
	return sn
}

// writeDiagnosticsGitHub writes diags as GitHub Actions workflow commands
// (::error file=F,line=L,...::MESSAGE), which the runner turns into
// annotations on the files and lines of a pull request. The summary is the
// annotation's title, the detail its message.
func writeDiagnosticsGitHub(w io.Writer, diags hcl.Diagnostics) {
	for _, d := range diags {
		cmd := "error"
		if d.Severity != hcl.DiagError {
			cmd = "warning"
		}
		msg := d.Detail
		if msg == "" {
			msg = d.Summary
		}
		var props []string
		if s := d.Subject; s != nil {
			if strings.HasPrefix(s.Filename, "<") {
				// A built-in ("<builtin>/process.hcl") is no file of the
				// repository to annotate: say where in the message.
				msg = fmt.Sprintf("%s:%d:%d: %s", s.Filename, s.Start.Line, s.Start.Column, msg)
			} else {
				props = append(props, "file="+githubProperty(s.Filename), fmt.Sprintf("line=%d", s.Start.Line))
				endCol := max(s.End.Column-1, s.Start.Column) // hcl's end is exclusive, GitHub's inclusive
				switch {
				case s.End.Line == s.Start.Line:
					props = append(props, fmt.Sprintf("col=%d", s.Start.Column), fmt.Sprintf("endLine=%d", s.End.Line), fmt.Sprintf("endColumn=%d", endCol))
				default:
					// GitHub takes columns only for a range on one line.
					props = append(props, fmt.Sprintf("endLine=%d", s.End.Line))
				}
			}
		}
		props = append(props, "title="+githubProperty(d.Summary))
		fmt.Fprintf(w, "::%s %s::%s\n", cmd, strings.Join(props, ","), githubMessage(msg))
	}
}

// githubMessage escapes a workflow command's message as GitHub's toolkit
// does: %, CR and LF.
func githubMessage(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// githubProperty escapes a workflow command's property value: the
// message's escapes, and also ":" and "," that would end the value.
func githubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
