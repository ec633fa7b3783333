package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/policies"
)

// newFmtCmd builds `graceful fmt [-check] [FILES|DIRS...]`.
func newFmtCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fmt [-check] [FILES|DIRS...]",
		Short: "Rewrite policy files in canonical format",
		Long: `Fmt rewrites policy files in place in canonical form and prints the name of
each file it changed. Native syntax (.hcl) is formatted as hclwrite.Format
does (terraform fmt's rules); JSON syntax (.hcl.json) is re-indented with two
spaces, keeping key order. A file that does not parse is refused with the
parser's diagnostic and left untouched.

With no arguments it formats the policy files of the current directory; "-"
reads standard input and writes the result to standard output.

With -check nothing is written: the files that are not formatted are listed
and the exit status is 1. Exit status: 0 when all is well, 1 when a file does
not parse (or, with -check, is not formatted), 2 on a usage error.`,
		Example: `  graceful fmt examples/policies
  graceful fmt -check policy.hcl`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFmt(cmd, v, cmd.Flags().Args())
		},
	}
	cmd.Flags().Bool("check", false, "only report files that are not formatted (also -check)")
	goStyleFlags(cmd, v)
	return cmd
}

func runFmt(cmd *cobra.Command, v *viper.Viper, args []string) error {
	check := v.GetBool("check")
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
		if check {
			if !bytes.Equal(res, src) {
				fmt.Fprintln(out, "<stdin>")
				return silentStatus(exitFindings)
			}
			return nil
		}
		_, err = out.Write(res)
		return err
	}
	if len(args) == 0 {
		args = []string{"."}
	}
	files, err := policies.ExpandPaths(args)
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
