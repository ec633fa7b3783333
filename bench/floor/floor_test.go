package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// thirdParty lists the packages pkg links that are neither the standard
// library nor graceful's own.
func thirdParty(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Skipf("go list %s: %v", pkg, err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/graceful-sh/graceful") {
			pkgs = append(pkgs, p)
		}
	}
	slices.Sort(pkgs)
	return pkgs
}

// The floor must link exactly the third-party packages graceful links:
// fewer would make graceful pay for its libraries' initialisation in the
// comparison, more would flatter it.
func TestSameLibraries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	g := thirdParty(t, "github.com/graceful-sh/graceful/cmd/graceful")
	f := thirdParty(t, "github.com/graceful-sh/graceful/bench/floor")
	for _, p := range g {
		if _, found := slices.BinarySearch(f, p); !found {
			t.Errorf("graceful links %s, the floor does not: import it in bench/floor", p)
		}
	}
	for _, p := range f {
		if _, found := slices.BinarySearch(g, p); !found {
			t.Errorf("the floor links %s, graceful does not: drop it from bench/floor", p)
		}
	}
}
