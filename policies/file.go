package policies

import (
	"github.com/hashicorp/hcl/v2"
)

// File is one decoded policy file.
type File struct {
	// Name is the file name as given to the parser (the diagnostics' key).
	Name string
	// Profiles are the file's profiles in source order, including those
	// whose decoding failed (see Profile.Broken).
	Profiles []*Profile
	// Builtin is set for the embedded default profiles.
	Builtin bool
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "locals"},
		{Type: "profile", LabelNames: []string{"name"}},
	},
}

// decodeFile decodes one parsed file: its locals first (they are the
// evaluation context of everything else), then its profiles.
func decodeFile(f *hcl.File, name string, lookupEnv func(string) (string, bool)) (*File, hcl.Diagnostics) {
	out := &File{Name: name}
	content, diags := f.Body.Content(fileSchema)

	var localsBlocks, profileBlocks []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "locals":
			localsBlocks = append(localsBlocks, b)
		case "profile":
			profileBlocks = append(profileBlocks, b)
		}
	}

	ctx, ldiags := decodeLocalsBlocks(localsBlocks, lookupEnv)
	diags = append(diags, ldiags...)
	localsBroken := ldiags.HasErrors()

	// With broken locals the profiles are still decoded, so that their own
	// mistakes are reported too; a local that failed is unknown, and the
	// "Unknown value" of an argument using it would only repeat the
	// local's error, so it is dropped. Such profiles are not validated.
	for _, b := range profileBlocks {
		p, pdiags := decodeProfileBlock(b, ctx)
		p.File = name
		// Once the file's evaluation allowance is used up (reported once,
		// where it happened), what is left is unknown as after a broken
		// local.
		if localsBroken || budgetOf(ctx).left < 0 {
			p.Broken = true
			kept := pdiags[:0]
			for _, d := range pdiags {
				if d.Summary != unknownValue {
					kept = append(kept, d)
				}
			}
			pdiags = kept
		}
		out.Profiles = append(out.Profiles, p)
		diags = append(diags, pdiags...)
	}
	return out, diags
}
