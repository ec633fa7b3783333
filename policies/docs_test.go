package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
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

// TestDocsExamplesLoad loads every complete example of docs/policy.md: the
// fenced hcl blocks that start with a locals or profile block and the
// fenced json blocks.
func TestDocsExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	fence := regexp.MustCompile("(?s)```(hcl|json)\n(.*?)```")
	n := 0
	for i, m := range fence.FindAllStringSubmatch(string(doc), -1) {
		lang, src := m[1], m[2]
		if lang == "hcl" && !strings.HasPrefix(src, "profile ") && !strings.HasPrefix(src, "locals ") {
			continue // a fragment
		}
		name := fmt.Sprintf("docs-example-%d.hcl", i)
		if lang == "json" {
			name += ".json"
		}
		pol, diags := LoadSources([]Source{{Name: name, Src: []byte(src)}}, Options{LookupEnv: noEnv})
		if len(diags) > 0 {
			t.Errorf("example %d:\n%s\n%s", i, src, pol.RenderDiagnostics(diags, 0, false))
		}
		n++
	}
	if n < 3 {
		t.Errorf("only %d complete examples found", n)
	}
}

// TestDocsCoverArguments: every argument and block the decoder accepts has
// a row in one of docs/policy.md's tables ("| `name`" at a row's start).
func TestDocsCoverArguments(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := string(doc)
	for _, s := range []*hcl.BodySchema{profileSchema, onSchema, cancelSchema, stepSchema, finalizeSchema, exitCodesSchema, checkSchema} {
		for _, a := range s.Attributes {
			if !strings.Contains(docs, "| `"+a.Name+"`") && !strings.Contains(docs, "| `"+a.Name+"` (required)") {
				t.Errorf("argument %s has no row in docs/policy.md", a.Name)
			}
		}
		for _, b := range s.Blocks {
			if !strings.Contains(docs, "| `"+b.Type) {
				t.Errorf("block %s has no row in docs/policy.md", b.Type)
			}
		}
	}
}
