package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// pathologicalSeeds are small versions of the inputs of issue #11 that
// took unbounded time or memory: the fuzzer starts from them, and the
// bounds below hold for each.
func pathologicalSeeds() map[string]string {
	r := strings.Repeat
	var failing, chain strings.Builder
	for i := range 30 {
		fmt.Fprintf(&failing, "profile \"p%d\" {\n  on \"SIGTREM\" { actions = [\"cancle\"] }\n  cancel {\n    step \"a\" {\n      at = \"1x\"\n      signal = \"SIGTERN\"\n    }\n  }\n}\n", i)
	}
	chain.WriteString("locals {\n")
	for i := range 300 {
		fmt.Fprintf(&chain, "  c%d = local.c%d\n", i, i+1)
	}
	chain.WriteString("  c300 = \"1s\"\n}\n")
	return map[string]string{
		"doubling-interpolation.hcl": doubling(`"xxxxxxxxxxxxxxxx"`, `"${PREV}${PREV}"`),
		"doubling-format.hcl":        doubling(`"xxxxxxxxxxxxxxxx"`, `format("%s%s", PREV, PREV)`),
		"doubling-join.hcl":          doubling(`"xxxxxxxxxxxxxxxx"`, `join("", [PREV, PREV])`),
		"doubling-concat.hcl":        doubling(`["x"]`, `concat(PREV, PREV)`),
		"format-width.hcl":           "locals {\n  w = format(\"%2000000000s\", \"x\")\n}\n",
		"pairs-format.hcl":           pairing(`format("%v", local.t59)`),
		"pairs-equal.hcl":            pairing(`local.t59 == local.t59`),
		"huge-number.hcl":            "locals {\n  n = \"x${1e600000000}\"\n}\n",
		"for.hcl":                    "locals {\n  f = [for x in [1] : [for y in [1] : x]]\n}\n",
		"parentheses.hcl":            "locals {\n  x = " + r("(", 300) + "1" + r(")", 300) + "\n}\n",
		"negations.hcl":              "locals {\n  x = " + r("!", 300) + "true\n}\n",
		"conditionals.hcl":           "locals {\n  x = " + r("true ? 1 : ", 200) + "1\n}\n",
		"interpolations.hcl":         "locals {\n  x = " + r(`"${`, 200) + "1" + r(`}"`, 200) + "\n}\n",
		"arrays.hcl.json":            `{"locals": {"x": ` + r("[", 300) + r("]", 300) + "}}",
		"nul.hcl":                    r("\x00", 100),
		"latin1.hcl":                 "locals {\n  x = \"caf\xe9\"\n}\n",
		"escapes.hcl":                "# \x1b]0;title\x07\nlocals {\n  x = \"\x1b[2J\" + \x1b\n}\n",
		"failing-profiles.hcl":       failing.String(),
		"locals-backwards.hcl":       chain.String(),
		"long-line.hcl":              "locals {\n  x = [" + r(`"a", `, 1000) + "nope]\n}\n",
		"duration-overflow.hcl":      "locals {\n  d = duration_sub(\"-2562047h47m16.854775808s\", \"1ns\")\n}\n",
		"reserved-signal.hcl":        "profile \"p\" {\n  on \"SIGURG\" { actions = [\"cancel\"] }\n}\n",
	}
}

// allocated returns the bytes the process has allocated so far.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzLoadValidate feeds arbitrary files through parsing, decoding,
// extends resolution, validation, diagnostic rendering and formatting. No
// input may panic, none may take long or allocate much (the bounds are
// far above what any input takes, so that -race and a loaded machine do
// not trip them, and far below what the inputs of issue #11 took), and
// whatever loads cleanly must satisfy the engine's invariants.
func FuzzLoadValidate(f *testing.F) {
	for name, src := range pathologicalSeeds() {
		f.Add([]byte(src), IsJSON(name))
	}
	for _, pat := range []string{"testdata/invalid-files/*", "testdata/several-mistakes/*", "testdata/valid-files/*", "../examples/policies/*", "builtin/*.hcl"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src, IsJSON(name))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		name := "fuzz.hcl"
		if isJSON {
			name = "fuzz.hcl.json"
		}
		start, alloc := time.Now(), allocated()
		pol, diags := LoadSources([]Source{{Name: name, Src: src}}, Options{LookupEnv: noEnv})
		text := pol.RenderDiagnostics(diags, 78, false)
		_, files, fdiags := Format(name, src)
		text += RenderDiagnostics(files, fdiags, 78, false)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("loading %d bytes took %s", len(src), d)
		}
		if a := allocated() - alloc; a > 512<<20 {
			t.Errorf("loading %d bytes allocated %d MiB", len(src), a>>20)
		}
		if len(text) > 64<<10+4*len(src) {
			t.Errorf("%d bytes of diagnostics for %d bytes of input", len(text), len(src))
		}
		for _, r := range text {
			if isControl(r) && r != '\n' {
				t.Fatalf("control character %U in the diagnostics", r)
			}
		}
		for _, d := range diags {
			if d.Summary == "" {
				t.Errorf("diagnostic without summary: %#v", d)
			}
			// Only a local that failed is unknown, and its own error is
			// the one reported.
			if d.Summary == unknownValue {
				t.Errorf("unknown value reported: %#v", d)
			}
		}
		if diags.HasErrors() {
			return
		}
		for _, p := range pol.Profiles() {
			if p.Deadline <= 0 {
				t.Errorf("%s: valid profile with deadline %s", p.Name, p.Deadline)
			}
			escalates := false
			for i, s := range p.Steps {
				if i > 0 && s.At < p.Steps[i-1].At {
					t.Errorf("%s: steps not sorted", p.Name)
				}
				if s.At < 0 || s.At >= p.Deadline {
					t.Errorf("%s: step %s at %s outside [0, %s)", p.Name, s.Name, s.At, p.Deadline)
				}
				escalates = escalates || s.Escalates()
			}
			if !escalates {
				t.Errorf("%s: valid profile that never escalates", p.Name)
			}
		}
	})
}
