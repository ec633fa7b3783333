package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/policies"
)

// newFmtCmd builds `graceful fmt [-check] [FILES|DIRS...]`.
func newFmtCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fmt [-check] [-diff] [-recursive] [FILES|DIRS...]",
		Short: "Rewrite policy files in canonical format",
		Long: `Fmt rewrites policy files in place in canonical form and prints the name of
each file it changed. Native syntax (.hcl) is formatted as hclwrite.Format
does (terraform fmt's rules); JSON syntax (.hcl.json) is re-indented with two
spaces, keeping key order. A file that does not parse is refused with the
parser's diagnostic and left untouched.

With no arguments it formats the policy files of the current directory; "-"
reads standard input and writes the result to standard output.

A directory contributes its own policy files; with -recursive, those of
its subdirectories too (directories whose names start with "." are
skipped, as .git).

With -check nothing is written: the files that are not formatted are listed
and the exit status is 1. With -diff the unified diff of each change is
printed after the file's name (and the file is still rewritten, as terraform
fmt -diff does; add -check to only look). Exit status: 0 when all is well, 1
when a file does not parse (or, with -check, is not formatted), 2 on a usage
error.`,
		Example: `  graceful fmt examples/policies
  graceful fmt -check policy.hcl
  graceful fmt -check -diff -recursive .`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFmt(cmd, v, cmd.Flags().Args())
		},
	}
	cmd.Flags().Bool("check", false, "only report files that are not formatted (also -check)")
	cmd.Flags().Bool("diff", false, "print the unified diff of each change (also -diff)")
	cmd.Flags().Bool("recursive", false, "also format the policy files in subdirectories (also -recursive)")
	goStyleFlags(cmd, v)
	return cmd
}

func runFmt(cmd *cobra.Command, v *viper.Viper, args []string) error {
	check, diff := v.GetBool("check"), v.GetBool("diff")
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()

	if len(args) == 1 && args[0] == "-" {
		// One byte past the cap is enough for Format to refuse it.
		src, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), policies.MaxFileSize+1))
		if err != nil {
			return withStatus(exitInternal, err)
		}
		res, diagText := formatPolicy("<stdin>", src)
		if diagText != "" {
			fmt.Fprint(errw, diagText)
			return silentStatus(exitFindings)
		}
		switch {
		case diff:
			// As gofmt -d: the diff instead of the result.
			unifiedDiff(out, "<stdin>", "<stdin> (formatted)", src, res)
		case check:
			if !bytes.Equal(res, src) {
				fmt.Fprintln(out, "<stdin>")
			}
		default:
			_, err = out.Write(res)
			return err
		}
		if check && !bytes.Equal(res, src) {
			return silentStatus(exitFindings)
		}
		return nil
	}
	if len(args) == 0 {
		args = []string{"."}
	}
	expand := policies.ExpandPaths
	if v.GetBool("recursive") {
		expand = expandRecursive
	}
	files, err := expand(args)
	if err != nil {
		return withStatus(exitUsage, err)
	}

	status := exitOK
	for _, name := range files {
		src, err := policies.ReadFile(name)
		if err != nil {
			fmt.Fprintf(errw, "graceful: %v\n", err)
			status = exitFindings
			continue
		}
		res, diagText := formatPolicy(name, src)
		if diagText != "" {
			fmt.Fprint(errw, diagText)
			status = exitFindings
			continue
		}
		if bytes.Equal(res, src) {
			continue
		}
		fmt.Fprintln(out, name)
		if diff {
			unifiedDiff(out, name, name+" (formatted)", src, res)
		}
		if check {
			status = exitFindings
			continue
		}
		if err := writeFileKeepMode(name, res); err != nil {
			fmt.Fprintf(errw, "graceful: %v\n", err)
			status = exitFindings
		}
	}
	if status != exitOK {
		return silentStatus(status)
	}
	return nil
}

// formatPolicy returns src in canonical form, or the rendered parse
// diagnostics when src does not parse.
func formatPolicy(name string, src []byte) ([]byte, string) {
	res, files, diags := policies.Format(name, src)
	if diags.HasErrors() {
		var buf bytes.Buffer
		buf.WriteString(policies.RenderDiagnostics(files, diags, 0, false))
		fmt.Fprintf(&buf, "%s: not formatted: it does not parse\n", name)
		return nil, buf.String()
	}
	return res, ""
}

// writeFileKeepMode replaces a file's contents, keeping its permissions.
func writeFileKeepMode(name string, b []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	return os.WriteFile(name, b, mode)
}

// expandRecursive is policies.ExpandPaths for fmt -recursive: a directory
// contributes the policy files of its whole tree, in lexical order, except
// those under directories whose names start with "." (.git, .terraform).
// A tree without policy files is an error, as a directory without them is
// for ExpandPaths.
func expandRecursive(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		n := len(out)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if policies.IsPolicyFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no policy files (*.hcl, *.hcl.json) in directory or below", p)
		}
	}
	// A file named twice, or inside a directory also named, once.
	return policies.ExpandPaths(out)
}
