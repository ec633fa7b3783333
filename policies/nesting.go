package policies

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// hcl's parsers and evaluators recurse once per level of nesting, so deep
// input exhausts the Go stack (100,000 nested "(" crash with "goroutine
// stack exceeds 1000000000-byte limit"; 10,000 take 230 MB) and many small
// tokens take far more memory than their bytes (1 MiB of "[]," parses into
// 350 MB). checkLimits refuses such input before it is parsed, in one pass
// that allocates nothing; the same pass refuses what would make
// evaluation unbounded (for expressions and number literals with huge
// exponents, see bounds.go).

const (
	// maxNesting is the deepest nesting accepted: brackets, braces,
	// parentheses, strings and template interpolations each open a level,
	// and every operator or postfix (".", "[") adds one to the level of its
	// expression until the next "," or line end, because hcl nests the
	// tree of an expression per operator too. Policies need a few levels.
	maxNesting = 128
	// maxTokens is the most names, numbers, strings, brackets and
	// operators a file may hold: about 100 bytes each once parsed, so a
	// file at the limit parses in well under 256 MiB. 1 MiB of ordinary
	// profiles holds 100,000 to 175,000.
	maxTokens = 3 << 16
)

// scanFrame is one open level of a scan: a bracket, string, heredoc or
// template interpolation; ops counts the operators of its current
// expression.
type scanFrame struct {
	kind   byte // '(', '[', '{', 'i' interpolation, '"' string, 'h' heredoc, 't' bare template
	ops    int
	marker []byte // a heredoc's closing marker
}

// limitScan holds the state of one file's scan.
type limitScan struct {
	stack  []scanFrame
	depth  int // levels open, operators included
	tokens int
	err    string // set at the first limit crossed
	at     int    // byte offset of that token
	base   int    // depth outside this scanner (a JSON string's nesting)
}

func (s *limitScan) push(kind byte, at int) {
	s.stack = append(s.stack, scanFrame{kind: kind})
	s.depth++
	s.check(at)
}

func (s *limitScan) pop() {
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.depth -= 1 + f.ops
}

func (s *limitScan) op(at int) {
	if len(s.stack) == 0 {
		return
	}
	s.stack[len(s.stack)-1].ops++
	s.depth++
	s.check(at)
}

// endExpr is a "," or a line end: the operators counted so far belong to a
// finished expression.
func (s *limitScan) endExpr() {
	if len(s.stack) == 0 {
		return
	}
	f := &s.stack[len(s.stack)-1]
	s.depth -= f.ops
	f.ops = 0
}

func (s *limitScan) token(at int) {
	s.tokens++
	if s.tokens > maxTokens && s.err == "" {
		s.err, s.at = "tokens", at
	}
}

func (s *limitScan) fail(kind string, at int) {
	if s.err == "" {
		s.err, s.at = kind, at
	}
}

// maxExponent bounds the exponent of a number literal. As text a number
// takes a digit per power of ten: 1e600000000 would be 600 MB in a
// template.
const maxExponent = 1000

// hugeExponent reports whether a number literal's decimal exponent is
// beyond maxExponent either way.
func hugeExponent(num []byte) bool {
	i := bytes.IndexAny(num, "eE")
	if i < 0 {
		return false
	}
	e := 0
	for _, c := range bytes.TrimLeft(num[i+1:], "+-") {
		if c < '0' || c > '9' {
			return false
		}
		if e = e*10 + int(c-'0'); e > maxExponent {
			return true
		}
	}
	return false
}

// isForExpr reports whether the source after a "[" or "{" starts a for
// expression: "for NAME in" or "for KEY, VALUE in".
func isForExpr(rest []byte) bool {
	word := func() []byte {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		j := 0
		for j < len(rest) && isIdentByte(rest[j]) {
			j++
		}
		w := rest[:j]
		rest = rest[j:]
		return w
	}
	if string(word()) != "for" || len(word()) == 0 {
		return false
	}
	if t := bytes.TrimLeft(rest, " \t"); len(t) > 0 && t[0] == ',' {
		rest = t[1:]
		if len(word()) == 0 {
			return false
		}
	}
	return string(word()) == "in"
}

// isForDirective reports whether the source after a template's "%{" is a
// for directive.
func isForDirective(rest []byte) bool {
	rest = bytes.TrimLeft(bytes.TrimPrefix(rest, []byte("~")), " \t\r\n")
	return bytes.HasPrefix(rest, []byte("for")) && len(rest) > 3 && !isIdentByte(rest[3])
}

func (s *limitScan) check(at int) {
	if s.base+s.depth > maxNesting && s.err == "" {
		s.err, s.at = "nesting", at
	}
}

func (s *limitScan) top() byte {
	if len(s.stack) == 0 {
		return 0
	}
	return s.stack[len(s.stack)-1].kind
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// native scans HCL native syntax, or with template set a bare template (a
// JSON string's contents). It follows the lexer closely enough for limits:
// comments, quoted strings with escapes, heredocs and interpolations nested
// in either; what it gets wrong the parser reports anyway.
func (s *limitScan) native(src []byte, template bool) {
	s.stack = append(s.stack[:0], scanFrame{kind: '{'}) // the file body
	s.depth = 1
	if template {
		s.stack[0].kind = 't'
	}
	lineStart := true
	afterValue := false // the last token ends a value, so "." and "[" are postfix
	for i := 0; i < len(src) && s.err == ""; {
		c := src[i]
		switch s.top() {
		case '"', 'h', 't':
			kind := s.top()
			if kind == 'h' && lineStart {
				// A heredoc ends at a line holding only its marker.
				j := i
				for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				m := s.stack[len(s.stack)-1].marker
				if bytes.HasPrefix(src[j:], m) && (j+len(m) == len(src) || src[j+len(m)] == '\n' || src[j+len(m)] == '\r') {
					s.pop()
					i, lineStart, afterValue = j+len(m), false, true
					continue
				}
			}
			lineStart = false
			switch {
			case c == '\\' && kind == '"':
				i += 2
			case c == '"' && kind == '"':
				s.pop()
				i, afterValue = i+1, true
			case c == '\n':
				if kind == '"' { // unterminated: the lexer ends the string here
					s.pop()
				}
				i, lineStart = i+1, true
			case (c == '$' || c == '%') && i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
				i += 3 // $${ and %%{ are literal
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				s.token(i)
				if c == '%' && isForDirective(src[i+2:]) {
					s.fail("for", i)
				}
				s.push('i', i)
				i, afterValue = i+2, false
			default:
				i++
			}
			continue
		}
		// Code: a file body, a bracket or an interpolation.
		switch {
		case c == '\n':
			if k := s.top(); k == '{' {
				s.endExpr()
			}
			i, lineStart, afterValue = i+1, true, false
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		}
		lineStart = false
		switch {
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 2
			}
		case c == '"':
			s.token(i)
			s.push('"', i)
			i++
		case c == '<' && i+2 < len(src) && src[i+1] == '<' && (src[i+2] == '-' || isIdentByte(src[i+2])):
			j := i + 2
			if src[j] == '-' {
				j++
			}
			k := j
			for k < len(src) && isIdentByte(src[k]) {
				k++
			}
			if k == j || k >= len(src) || (src[k] != '\n' && src[k] != '\r') {
				s.op(i)
				i++
				continue
			}
			s.token(i)
			s.push('h', i)
			s.stack[len(s.stack)-1].marker = src[j:k]
			for k < len(src) && src[k] != '\n' {
				k++
			}
			i, lineStart = k+1, true
		case c == '(' || c == '[' || c == '{':
			s.token(i)
			if c == '[' && afterValue {
				s.op(i) // an index: the tree nests once more
			}
			if c != '(' && isForExpr(src[i+1:]) {
				s.fail("for", i)
			}
			s.push(c, i)
			i, afterValue = i+1, false
		case c == ')' || c == ']' || c == '}':
			s.token(i)
			if len(s.stack) > 1 {
				s.pop()
			}
			i, afterValue = i+1, true
		case c == ',':
			s.token(i)
			s.endExpr()
			i, afterValue = i+1, false
		case isIdentByte(c) && c != '-':
			s.token(i)
			if '0' <= c && c <= '9' {
				// A number: digits, a fraction and an exponent.
				start := i
				for i < len(src) && (('0' <= src[i] && src[i] <= '9') || src[i] == '.' || src[i] == 'e' || src[i] == 'E' ||
					((src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E'))) {
					i++
				}
				if hugeExponent(src[start:i]) {
					s.fail("number", start)
				}
			} else {
				for i < len(src) && isIdentByte(src[i]) {
					i++
				}
			}
			afterValue = true
		default:
			// Operators and anything else: one level each, "." only
			// after a value (a traversal step).
			s.token(i)
			if c != '.' || afterValue {
				s.op(i)
			}
			i, afterValue = i+1, false
		}
	}
}

// jsonScan scans HCL JSON syntax: arrays and objects nest, and a string
// holding "${" or "%{" is a template whose own nesting adds to its place.
func (s *limitScan) jsonScan(src []byte) {
	depth := 0
	for i := 0; i < len(src) && s.err == ""; {
		switch c := src[i]; c {
		case '[', '{':
			s.token(i)
			depth++
			if depth > maxNesting && s.err == "" {
				s.err, s.at = "nesting", i
			}
			i++
		case ']', '}':
			s.token(i)
			depth = max(depth-1, 0)
			i++
		case '"':
			s.token(i)
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			lit := src[i:min(j+1, len(src))]
			i = j + 1
			if !bytes.Contains(lit, []byte("${")) && !bytes.Contains(lit, []byte("%{")) {
				continue
			}
			var str string
			if json.Unmarshal(lit, &str) != nil {
				continue // the parser reports it
			}
			inner := limitScan{base: depth, tokens: s.tokens}
			inner.native([]byte(str), true)
			s.tokens = inner.tokens
			if inner.err != "" && s.err == "" {
				// Offsets inside the decoded string do not map back
				// exactly; point at the string.
				s.err, s.at = inner.err, i-len(lit)
			}
		case ' ', '\t', '\r', '\n', ',', ':':
			if c == ',' || c == ':' {
				s.token(i)
			}
			i++
		default:
			s.token(i)
			start := i
			for i < len(src) && !bytes.ContainsRune([]byte(" \t\r\n,:[]{}\""), rune(src[i])) {
				i++
			}
			if hugeExponent(src[start:i]) {
				s.fail("number", start)
			}
		}
	}
}

// checkLimits returns a diagnostic when src nests too deep or holds too
// many tokens, at the first place that crosses the limit.
func checkLimits(name string, src []byte) *hcl.Diagnostic {
	var s limitScan
	if IsJSON(name) {
		s.jsonScan(src)
	} else {
		s.native(src, false)
	}
	if s.err == "" {
		return nil
	}
	p := posOf(src, s.at)
	rng := &hcl.Range{Filename: name, Start: p, End: hcl.Pos{Line: p.Line, Column: p.Column + 1, Byte: p.Byte + 1}}
	switch s.err {
	case "for":
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "For expression not supported",
			Detail:   "Policies do not support for expressions or %{for} directives: repeating a body for every element is the one way a short file could make unbounded work, and a policy has no collections to transform. Write the values out, or use join, concat or format.",
			Subject:  rng,
		}
	case "number":
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Number out of range",
			Detail:   fmt.Sprintf("The exponent of this number is beyond ±%d, and as text such a number would take a digit per power of ten. Policies count seconds and exit codes; write a smaller number.", maxExponent),
			Subject:  rng,
		}
	}
	if s.err == "nesting" {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail:   fmt.Sprintf("Here the file nests more than %d levels deep (brackets, braces, parentheses, strings and interpolations, with each operator of an expression counting as a level), which graceful does not parse. Flatten the expression, for example with local values.", maxNesting),
			Subject:  rng,
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many tokens",
		Detail:   fmt.Sprintf("By here the file holds more than %d names, numbers, strings, brackets and operators, which graceful does not parse. A policy needs far fewer; split the file or compute long lists outside it.", maxTokens),
		Subject:  rng,
	}
}
