package policies

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/graceful-sh/graceful/engine"
)

// Options tune Load.
type Options struct {
	// LookupEnv is what env() reads; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// CheckBudget makes Budget an outside limit every checked profile's
	// deadline must fit in (validate --budget or --pod).
	CheckBudget bool
	Budget      time.Duration
	// BudgetSource says where Budget came from, for messages, e.g.
	// "--budget 30s" or "pod.yaml terminationGracePeriodSeconds".
	BudgetSource string
	// BudgetProfiles, when not empty, limits the Budget check to the
	// profiles named (validate --pod: those the pod's graceful
	// containers run).
	BudgetProfiles []string
}

// Source is an in-memory policy file. Its name decides the syntax: a name
// ending in ".json" is HCL JSON syntax, anything else native syntax.
type Source struct {
	Name string
	Src  []byte
}

// Policy is the result of loading: the files, their decoded profiles and,
// for every profile that is valid, its engine form.
type Policy struct {
	hclFiles map[string]*hcl.File
	// Files are the loaded files in load order (without the built-ins).
	Files []*File

	valid map[string]*engine.Profile
	// names of user profiles in load order.
	userNames []string
	// source is the file each valid profile came from.
	source map[string]string
}

// IsJSON reports whether a file name is HCL JSON syntax.
func IsJSON(name string) bool { return strings.HasSuffix(name, ".json") }

// IsPolicyFile reports whether a directory entry is a policy file.
func IsPolicyFile(name string) bool {
	return strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".hcl.json")
}

// ExpandPaths turns the given files and directories into the list of files
// to load: a directory contributes its *.hcl and *.hcl.json files (not
// recursively), sorted; a file is taken as given, whatever its name.
func ExpandPaths(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		// A file named twice (validate dir dir/a.hcl) is loaded once,
		// not reported as duplicating its own profiles.
		if k := filepath.Clean(p); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			if !e.IsDir() && IsPolicyFile(e.Name()) {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no policy files (*.hcl, *.hcl.json) in directory", p)
		}
		sort.Strings(names)
		for _, n := range names {
			add(n)
		}
	}
	return out, nil
}

// Load reads, decodes and validates the given policy files and directories
// together with the built-in profiles. Every problem is a diagnostic; the
// Policy is returned even then, so that its files can render them. With no
// paths, the built-ins themselves are the profiles checked (against
// opts.Budget).
func Load(paths []string, opts Options) (*Policy, hcl.Diagnostics) {
	files, err := ExpandPaths(paths)
	if err != nil {
		p := newPolicy()
		return p, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read policy",
			Detail:   err.Error() + ".",
		}}
	}
	srcs := make([]Source, 0, len(files))
	var diags hcl.Diagnostics
	for _, f := range files {
		b, d := readPolicyFile(f)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		srcs = append(srcs, Source{Name: f, Src: b})
	}
	if len(files) > 0 && len(srcs) == 0 {
		// Nothing readable was given: that is not "check the built-ins",
		// which LoadSources does with no sources.
		return newPolicy(), diags
	}
	p, ldiags := LoadSources(srcs, opts)
	return p, append(diags, ldiags...)
}

func newPolicy() *Policy {
	b := loadBuiltins()
	p := &Policy{hclFiles: make(map[string]*hcl.File, len(b.files)+1), valid: map[string]*engine.Profile{}, source: map[string]string{}}
	for _, bp := range b.profiles {
		p.source[bp.Name] = bp.File
	}
	for n, f := range b.files {
		p.hclFiles[n] = f
	}
	for n, ep := range b.engine {
		p.valid[n] = ep
	}
	return p
}

// LoadSources is Load for in-memory files.
func LoadSources(srcs []Source, opts Options) (*Policy, hcl.Diagnostics) {
	pol := newPolicy()
	b := loadBuiltins()
	var diags hcl.Diagnostics

	// 1. Parse and decode every file. Decoding errors stop a profile
	// from being checked further, but not the other profiles.
	var user []*Profile
	first := map[string]*Profile{}
	parser := hclparse.NewParser()
	for _, s := range srcs {
		if _, dup := pol.hclFiles[s.Name]; dup {
			continue // the parser would return the first one again
		}
		if d := checkText(s.Name, s.Src); d != nil {
			diags = append(diags, d)
			continue
		}
		if d := checkLimits(s.Name, s.Src); d != nil {
			// Registered, so that the diagnostic shows its line.
			pol.hclFiles[s.Name] = &hcl.File{Bytes: s.Src}
			diags = append(diags, d)
			continue
		}
		var f *hcl.File
		var pdiags hcl.Diagnostics
		if IsJSON(s.Name) {
			f, pdiags = parser.ParseJSON(s.Src, s.Name)
		} else {
			f, pdiags = parser.ParseHCL(s.Src, s.Name)
		}
		if f != nil {
			pol.hclFiles[s.Name] = f
		}
		diags = append(diags, pdiags...)
		if pdiags.HasErrors() || f == nil {
			continue
		}
		df, ddiags := decodeFile(f, s.Name, opts.LookupEnv)
		diags = append(diags, ddiags...)
		pol.Files = append(pol.Files, df)
		for _, p := range df.Profiles {
			if prev, ok := first[p.Name]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate profile",
					Detail:   fmt.Sprintf("A profile named %q is already defined at %s. Rename one of them; to change a profile, extend it.", p.Name, pos(prev.NameRange)),
					Subject:  p.NameRange.Ptr(),
				})
				continue
			}
			first[p.Name] = p
			user = append(user, p)
		}
	}

	// 2. Resolve extends and validate every profile that decoded cleanly.
	// Broken profiles and their descendants are skipped silently: their
	// errors are already reported.
	subjects := user
	if len(srcs) == 0 {
		subjects = b.profiles
	}
	r := newResolver(user, b.profiles)
	for _, p := range subjects {
		// A checked profile is usable only if it validates; a broken one
		// must not fall back to a built-in of the same name.
		delete(pol.valid, p.Name)
		res := r.resolve(p)
		if res == nil {
			continue
		}
		// A profile whose parent is itself invalid would repeat the
		// parent's diagnostics; report them once, on the parent.
		if parentInvalid(res, r, opts) {
			continue
		}
		vd := validateResolved(res, opts)
		diags = append(diags, vd...)
		if !vd.HasErrors() {
			pol.valid[p.Name] = res.engineProfile()
			pol.source[p.Name] = p.File
			pol.userNames = append(pol.userNames, p.Name)
		}
	}
	diags = append(diags, r.diags...)
	sources := make(map[string][]byte, len(srcs))
	for _, s := range srcs {
		sources[s.Name] = s.Src
	}
	addHints(diags, sources)
	sortDiags(diags)
	return pol, cleanDiagnostics(capDiagnostics(dedupe(diags)))
}

// parentInvalid reports whether a user profile up the chain fails its own
// validation.
func parentInvalid(res *resolved, r *resolver, opts Options) bool {
	for _, q := range res.chain[1:] {
		if q.Builtin {
			return false
		}
		if pr := r.done[q]; pr != nil && validateResolved(pr, opts).HasErrors() {
			return true
		}
	}
	return false
}

// sortDiags orders diagnostics by file and position; those without a
// subject come first.
func sortDiags(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}

// dedupe drops diagnostics identical to an earlier one.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sum, detail string
		rng         hcl.Range
	}
	seen := map[key]bool{}
	out := diags[:0]
	for _, d := range diags {
		k := key{sum: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.rng = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

// HCLFiles returns the parsed files by name, built-ins included, for
// hcl.NewDiagnosticTextWriter.
func (p *Policy) HCLFiles() map[string]*hcl.File { return p.hclFiles }

// Profile returns the named valid profile (a loaded one, or a built-in
// not shadowed by one). The result is the caller's to keep; it is shared
// with nobody.
func (p *Policy) Profile(name string) (*engine.Profile, error) {
	if name == "" {
		name = DefaultProfile
	}
	ep, ok := p.valid[name]
	if !ok {
		return nil, fmt.Errorf("no profile named %s (have: %s)", name, strings.Join(p.Names(), ", "))
	}
	return cloneProfile(ep), nil
}

// Select returns the profile a command means by name: the named one or,
// when name is "", the only profile the loaded files define, else
// DefaultProfile.
func (p *Policy) Select(name string) (*engine.Profile, error) {
	if name == "" && len(p.userNames) == 1 {
		name = p.userNames[0]
	}
	return p.Profile(name)
}

// Source returns the file the named valid profile was defined in
// ("<builtin>/process.hcl" for a built-in), or "".
func (p *Policy) Source(name string) string {
	if _, ok := p.valid[name]; !ok {
		return ""
	}
	return p.source[name]
}

// Names lists the usable profiles: loaded ones and built-ins, sorted.
func (p *Policy) Names() []string {
	out := make([]string, 0, len(p.valid))
	for n := range p.valid {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Profiles returns the valid profiles of the loaded files in load order
// (the built-ins when nothing was loaded).
func (p *Policy) Profiles() []*engine.Profile {
	out := make([]*engine.Profile, 0, len(p.userNames))
	for _, n := range p.userNames {
		out = append(out, cloneProfile(p.valid[n]))
	}
	return out
}

// RenderDiagnostics renders diags with hcl's text writer (summary, source
// snippet, detail), with the writer's "on FILE line N" made the more useful
// "on FILE:LINE:COLUMN". width 0 means no wrapping.
func (p *Policy) RenderDiagnostics(diags hcl.Diagnostics, width uint, color bool) string {
	return RenderDiagnostics(p.hclFiles, diags, width, color)
}
