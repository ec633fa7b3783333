package policies

import (
	"bytes"
	"encoding/json"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// Format returns src in canonical form. Native syntax is formatted by
// hclwrite.Format (terraform fmt's rules); JSON syntax is re-indented with
// two spaces, keeping key order, with a final newline. Input that does not
// parse is refused: the result is nil and the diagnostics say why; the
// returned files map renders them.
func Format(name string, src []byte) ([]byte, map[string]*hcl.File, hcl.Diagnostics) {
	if d := checkText(name, src); d != nil {
		return nil, map[string]*hcl.File{}, hcl.Diagnostics{d}
	}
	if d := checkLimits(name, src); d != nil {
		return nil, map[string]*hcl.File{name: {Bytes: src}}, hcl.Diagnostics{d}
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if IsJSON(name) {
		f, diags = hcljson.Parse(src, name)
	} else {
		f, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	}
	if f == nil {
		f = &hcl.File{Bytes: src}
	}
	files := map[string]*hcl.File{name: f}
	if diags.HasErrors() {
		addHints(diags, map[string][]byte{name: src})
		return nil, files, cleanDiagnostics(capDiagnostics(diags))
	}
	// The syntax tree is not needed past here: let it go before hclwrite
	// builds its own, which would otherwise double the peak on a large
	// file.
	f = &hcl.File{Bytes: src}
	files[name] = f
	if !IsJSON(name) {
		return hclwrite.Format(src), files, nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(src), "", "  "); err != nil {
		// hcl's JSON parser accepted it, so this does not happen; report
		// it as a diagnostic all the same.
		return nil, files, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid JSON", Detail: err.Error() + "."}}
	}
	buf.WriteByte('\n')
	return buf.Bytes(), files, nil
}
