package policies

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsCoverLanguage keeps docs/policy.md honest: every function and
// every diagnostic summary of the package is documented there.
func TestDocsCoverLanguage(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := string(doc)
	for _, fn := range FunctionNames() {
		if !strings.Contains(docs, "`"+fn) && !strings.Contains(docs, ", `"+fn+"`") && !strings.Contains(docs, " `"+fn+"`") {
			t.Errorf("function %s is not documented", fn)
		}
	}
	summary := regexp.MustCompile(`Summary:\s+"([^"]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range summary.FindAllStringSubmatch(string(src), -1) {
			s := m[1]
			if s == "Duplicate " { // "Duplicate " + block type
				continue
			}
			if !strings.Contains(docs, "| "+s+" |") && !strings.Contains(docs, "| "+s+" (*warning*) |") && !strings.Contains(docs, " "+s+" |") {
				t.Errorf("%s: diagnostic %q is not in the rules table of docs/policy.md", f, s)
			}
		}
	}
}
