package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamplesAreFormatted: every fenced hcl block of the policy
// documentation passes graceful fmt -check, so that an example copied
// from the docs is already in canonical form.
func TestDocsExamplesAreFormatted(t *testing.T) {
	n := 0
	for _, doc := range []string{"../../docs/policy.md", "../../docs/timeline.md", "../../docs/kubernetes.md", "../../docs/process.md", "../../README.md"} {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		fence := regexp.MustCompile("(?ms)^```hcl\n(.*?)^```")
		for _, m := range fence.FindAllStringSubmatchIndex(string(src), -1) {
			block := string(src[m[2]:m[3]])
			n++
			line := 1 + strings.Count(string(src[:m[0]]), "\n")
			out, errOut, code := polRun(t, block, "fmt", "-check", "-diff", "-")
			if code != 0 {
				t.Errorf("%s:%d: the hcl block is not formatted (exit %d):\n%s%s", doc, line, code, out, errOut)
			}
		}
	}
	if n < 8 {
		t.Errorf("%d hcl blocks found; docs/policy.md alone has 8", n)
	}
}

// TestDocsLinksResolve: every relative Markdown link of the README and
// docs/ names a file of the repository (no DESIGN.md that is not there).
func TestDocsLinksResolve(t *testing.T) {
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md", "../../CHANGELOG.md")
	link := regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`)
	n := 0
	for _, doc := range docs {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(src), -1) {
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), m[1])); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, m[1])
			}
		}
		// A bare mention, as a link would be written.
		if strings.Contains(string(src), "DESIGN.md") {
			t.Errorf("%s mentions DESIGN.md, which is not in the repository", doc)
		}
	}
	if n == 0 {
		t.Error("no links found")
	}
}

// TestReadmeNamesGoVersion: the README names the Go version go.mod's go
// line requires.
func TestReadmeNamesGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Go " + string(m[1]) + " or newer"; !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not say %q", want)
	}
}

// TestLicence: the repository carries the Apache License 2.0 in full and a
// NOTICE naming graceful (CI also checks with test -s LICENSE).
func TestLicence(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS", "9. Accepting Warranty or Additional Liability."} {
		if !strings.Contains(string(lic), want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	notice, err := os.ReadFile("../../NOTICE")
	if err != nil || !strings.HasPrefix(string(notice), "graceful\n") {
		t.Errorf("NOTICE: %v %q", err, firstLine(string(notice)))
	}
}
