package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The linker drops the methods nothing can call. A reachable call of
// reflect's Method or MethodByName with a name not known at link time (as
// text/template makes for every field of its data) makes it keep every
// exported method of every type that may sit in an interface: a fifth of
// graceful's code, which every start pages in (docs/performance.md, "the
// binary"). cobra uses a template only for a command given one
// (SetUsageTemplate, SetHelpTemplate, SetVersionTemplate): graceful must
// set none, and no other package may make such a call reachable.
func TestMethodsPrunable(t *testing.T) {
	if testing.Short() {
		t.Skip("links graceful")
	}
	out := filepath.Join(t.TempDir(), "graceful")
	// -dumpdep prints, on stderr, "caller -> callee" for every reachable
	// edge and marks a function that makes such a call <ReflectMethod>.
	var dump bytes.Buffer
	args := []string{"build", "-o", out, "-ldflags=-dumpdep"}
	if raceEnabled {
		args = append(args, "-race") // the packages compiled for the test
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stderr = &dump
	if err := cmd.Run(); err != nil {
		if _, lerr := exec.LookPath("go"); lerr != nil {
			t.Skip("no go command")
		}
		b := dump.Bytes()
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s", err, b[max(0, len(b)-4096):])
	}
	var found []string
	seen := map[string]bool{}
	edges := 0
	sc := bufio.NewScanner(&dump)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		from, _, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		edges++
		if name, marked := strings.CutSuffix(from, " <ReflectMethod>"); marked && !seen[name] {
			seen[name] = true
			found = append(found, name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if edges < 1000 {
		t.Fatalf("the linker's dependency dump has %d edges: not the dump this test reads", edges)
	}
	if len(found) > 0 {
		t.Errorf("graceful calls reflect's Method or MethodByName with a name the linker cannot know, which keeps every exported method in the binary:\n  %s\nfind who reaches it (go build -ldflags=-dumpdep) and avoid it (a cobra template, text/template, ...)", strings.Join(found, "\n  "))
	}
}
