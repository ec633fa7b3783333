package policies

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// HCL's own diagnostics say what is wrong in HCL's terms; the hints below
// add, for the mistakes new users make most, how to fix it in this
// language's terms, as Terraform does for its own blocks.

// homes says where each argument and block of the language belongs.
var homes = map[string]string{
	"profile": "the top level of the file", "locals": "the top level of the file",
	"description": "a profile block", "extends": "a profile block", "runner": "a profile block", "budget": "a profile block",
	"on": "a profile block", "cancel": "a profile block", "finalize": "a profile block", "exit_codes": "a profile block", "check": "a profile block",
	"actions":  `an on "SIGNAL" block`,
	"deadline": "the cancel block", "step": "the cancel block",
	"at": "a step block", "signal": "a step block", "target": "a step block", "notify": "a step block", "abandon": "a step block", "disabled": "a step block",
	"command":   "a step or the finalize block",
	"timeout":   "a command step, the finalize block or the exit_codes block",
	"reserve":   "the finalize block",
	"abandoned": "the exit_codes block",
	"condition": "a check block", "error_message": "a check block",
}

// examples are a valid line for each required argument.
var examples = map[string]string{
	"actions":       `actions = ["cancel", "exit"]`,
	"command":       `command = ["./upload-logs.sh"]`,
	"condition":     `condition = to_seconds(local.a) < to_seconds(local.b)`,
	"error_message": `error_message = "A must be below B."`,
}

var (
	missingArg       = lazyRegexp(`^The argument "([^"]+)" is required`)
	unsupportedArg   = lazyRegexp(`^An argument named "([^"]+)" is not expected here\.`)
	unsupportedBlock = lazyRegexp(`^Blocks of type "([^"]+)" are not expected here\.`)
	extraneousJSON   = lazyRegexp(`^No argument or block type is named "([^"]+)"\.`)
	unknownVariable  = lazyRegexp(`^There is no variable named "([^"]+)"\.`)
)

// addHints appends a how-to-fix sentence to the details of HCL's own
// diagnostics where it can say more: an argument or block written in the
// wrong block, a bare word meant as a string, a duration without quotes.
// sources maps file names to their bytes.
func addHints(diags hcl.Diagnostics, sources map[string][]byte) {
	for _, d := range diags {
		if hint := hintFor(d, sources); hint != "" {
			if d.Detail != "" && !strings.HasSuffix(d.Detail, " ") {
				d.Detail += " "
			}
			d.Detail += hint
		}
	}
}

func hintFor(d *hcl.Diagnostic, sources map[string][]byte) string {
	if strings.Contains(d.Detail, "Did you mean") {
		return ""
	}
	switch d.Summary {
	case "Missing required argument":
		if m := missingArg().FindStringSubmatch(d.Detail); m != nil {
			if ex, ok := examples[m[1]]; ok {
				return "For example: " + ex + "."
			}
		}
	case "Unsupported argument":
		if m := unsupportedArg().FindStringSubmatch(d.Detail); m != nil {
			if home, ok := homes[m[1]]; ok {
				return fmt.Sprintf("The %s argument belongs in %s.", m[1], home)
			}
		}
	case "Unsupported block type":
		if m := unsupportedBlock().FindStringSubmatch(d.Detail); m != nil {
			if home, ok := homes[m[1]]; ok {
				return fmt.Sprintf("A %s block belongs in %s.", m[1], home)
			}
		}
	case "Extraneous JSON object property": // the JSON syntax's form of both
		if m := extraneousJSON().FindStringSubmatch(d.Detail); m != nil {
			if home, ok := homes[m[1]]; ok {
				return fmt.Sprintf("%q belongs in %s.", m[1], home)
			}
		}
	case "Incorrect JSON value type":
		if d.Subject != nil && afterCommentKey(sources[d.Subject.Filename], d.Subject.Start.Byte) {
			return `Here "//" is read as a block label, not a comment: move the comment inside the block's own object.`
		}
	case "Invalid operand":
		// Durations are strings, so "local.a < local.b" fails on them.
		if d.Expression != nil && strings.Contains(d.Detail, "a number is required") {
			if v, diags := d.Expression.Value(d.EvalContext); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
				if _, err := time.ParseDuration(v.AsString()); err == nil {
					r := d.Expression.Range()
					src := sources[r.Filename]
					text := "D"
					if r.End.Byte <= len(src) {
						text = string(src[r.Start.Byte:r.End.Byte])
					}
					return fmt.Sprintf("Durations are strings; to compare or add them as numbers, convert them: to_seconds(%s).", text)
				}
			}
		}
	case "Invalid block definition":
		// `at "1s"`: an argument written without its "=" reads as a
		// block header.
		if r := d.Subject; r != nil {
			line := lineAt(sources[r.Filename], r.Start.Byte)
			if m := argWithoutEquals().FindStringSubmatch(line); m != nil && isArgument(m[1]) {
				return fmt.Sprintf("%s is an argument, not a block: write %s = %s.", m[1], m[1], strings.TrimSpace(m[2]))
			}
		}
	case "Unknown variable":
		if m := unknownVariable().FindStringSubmatch(d.Detail); m != nil {
			// var.x, env.X, self.y: a reference, not a bare word.
			if r := d.Subject; r != nil && r.End.Byte < len(sources[r.Filename]) && sources[r.Filename][r.End.Byte] == '.' {
				return "Only local.NAME can be referred to: a policy has no input variables; read the environment with env(\"NAME\", DEFAULT), and share values with a locals block."
			}
			return fmt.Sprintf("Only local.NAME can be referred to; if %s is meant as text, quote it: %q.", m[1], m[1])
		}
	}
	if r := d.Subject; r != nil && !IsJSON(r.Filename) && r.Start.Byte == firstNonSpace(sources[r.Filename]) &&
		strings.HasPrefix(string(sources[r.Filename][r.Start.Byte:]), "{") {
		return "This looks like the JSON syntax, which is read from files named *.hcl.json (fmt - reads the native syntax)."
	}
	if d.Subject != nil {
		if tok := unquotedDuration(sources[d.Subject.Filename], d.Subject.Start.Byte); tok != "" {
			return fmt.Sprintf("Durations are quoted strings: write %q.", tok)
		}
	}
	return ""
}

// argWithoutEquals is a line "NAME VALUE" with no "=".
var argWithoutEquals = lazyRegexp(`^\s*([a-z_]+)\s+([^={]+?)\s*$`)

// isArgument reports whether name is an argument of some block.
func isArgument(name string) bool {
	for _, s := range []*hcl.BodySchema{profileSchema, onSchema, cancelSchema, stepSchema, finalizeSchema, exitCodesSchema, checkSchema} {
		for _, a := range s.Attributes {
			if a.Name == name {
				return true
			}
		}
	}
	return false
}

// lineAt returns the line of src that holds offset at.
func lineAt(src []byte, at int) string {
	if at < 0 || at > len(src) {
		return ""
	}
	start := bytes.LastIndexByte(src[:at], '\n') + 1
	end := bytes.IndexByte(src[at:], '\n')
	if end < 0 {
		return string(src[start:])
	}
	return string(src[start : at+end])
}

// firstNonSpace is the offset of the first byte of src that is not white
// space, or -1.
func firstNonSpace(src []byte) int {
	for i, b := range src {
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return i
		}
	}
	return -1
}

// afterCommentKey reports whether the JSON value at src[at] is the value
// of a "//" property.
func afterCommentKey(src []byte, at int) bool {
	if at > len(src) {
		return false
	}
	b := bytes.TrimRight(src[:at], " \t\r\n")
	if !bytes.HasSuffix(b, []byte(":")) {
		return false
	}
	b = bytes.TrimRight(b[:len(b)-1], " \t\r\n")
	return bytes.HasSuffix(b, []byte(`"//"`))
}

// unquotedDuration returns the token around src[at] when it is a number
// directly followed by letters (9s, 1m30s, 750ms), which HCL reads as a
// number and then chokes on; "" otherwise.
func unquotedDuration(src []byte, at int) string {
	if at <= 0 || at >= len(src) || !isLetter(src[at]) || !isDigit(src[at-1]) {
		return ""
	}
	start := at
	for start > 0 && (isDigit(src[start-1]) || src[start-1] == '.' || isLetter(src[start-1])) {
		start--
	}
	end := at
	for end < len(src) && (isDigit(src[end]) || src[end] == '.' || isLetter(src[end])) {
		end++
	}
	tok := string(src[start:end])
	if !isDigit(tok[0]) && tok[0] != '.' {
		return ""
	}
	return tok
}

func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// lazyRegexp compiles expr on first use. The expressions here serve
// diagnostics and hints only; compiled at package initialisation they cost
// every graceful run, which loads a policy but rarely reports on one,
// about 0.1 ms of start-up.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
