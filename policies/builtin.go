package policies

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/graceful-sh/graceful/engine"
)

//go:embed builtin/*.hcl
var builtinFS embed.FS

// builtinPrefix names the embedded files in diagnostics.
const builtinPrefix = "<builtin>/"

// DefaultProfile is the profile used when none is named.
const DefaultProfile = "process"

// builtinSet is the parsed and decoded built-ins, shared read-only by every
// load. Built-ins never read the environment.
type builtinSet struct {
	files    map[string]*hcl.File
	profiles []*Profile
	engine   map[string]*engine.Profile
	diags    hcl.Diagnostics
}

var loadBuiltins = sync.OnceValue(func() *builtinSet {
	b := &builtinSet{files: map[string]*hcl.File{}, engine: map[string]*engine.Profile{}}
	names, err := fs.Glob(builtinFS, "builtin/*.hcl")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	noEnv := func(string) (string, bool) { return "", false }
	for _, n := range names {
		src, err := builtinFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		fname := builtinPrefix + path.Base(n)
		f, diags := hclsyntax.ParseConfig(src, fname, hcl.InitialPos)
		b.diags = append(b.diags, diags...)
		if f == nil {
			continue
		}
		b.files[fname] = f
		df, diags := decodeFile(f, fname, noEnv)
		b.diags = append(b.diags, diags...)
		for _, p := range df.Profiles {
			p.Builtin = true
			b.profiles = append(b.profiles, p)
		}
	}
	r := newResolver(nil, b.profiles)
	for _, p := range b.profiles {
		if res := r.resolve(p); res != nil {
			b.diags = append(b.diags, validateResolved(res, Options{})...)
			b.engine[p.Name] = res.engineProfile()
		}
	}
	b.diags = append(b.diags, r.diags...)
	if b.diags.HasErrors() {
		// The built-ins are part of the program: a broken one is a bug.
		panic("policies: invalid built-in profile: " + b.diags.Error())
	}
	return b
})

// Builtin returns the embedded default profiles (process, kubernetes,
// container), sorted by name. The result is freshly allocated; callers may
// modify it.
func Builtin() []*engine.Profile {
	b := loadBuiltins()
	out := make([]*engine.Profile, 0, len(b.engine))
	for _, p := range b.profiles {
		out = append(out, cloneProfile(b.engine[p.Name]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// BuiltinSource returns the HCL source of the named built-in profile, for
// documentation and "graceful profiles --source".
func BuiltinSource(name string) ([]byte, bool) {
	src, err := builtinFS.ReadFile("builtin/" + name + ".hcl")
	return src, err == nil
}

// cloneProfile deep-copies an engine profile so that callers cannot change
// shared state.
func cloneProfile(p *engine.Profile) *engine.Profile {
	c := *p
	c.Triggers = make(map[string][]engine.Action, len(p.Triggers))
	for k, v := range p.Triggers {
		c.Triggers[k] = append([]engine.Action(nil), v...)
	}
	c.Steps = make([]engine.Step, len(p.Steps))
	for i, s := range p.Steps {
		s.Command = append([]string(nil), s.Command...)
		c.Steps[i] = s
	}
	if p.Finalize != nil {
		f := *p.Finalize
		f.Command = append([]string(nil), f.Command...)
		c.Finalize = &f
	}
	return &c
}
