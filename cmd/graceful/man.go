package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newManCmd builds `graceful man [DIR]`, which writes the man pages of the
// whole command tree. It is hidden from --help: packagers run it once at
// build time, users read the pages with man.
//
// The pages are written here rather than by github.com/spf13/cobra/doc:
// that package links a Markdown parser whose package initialisation (a
// 2,000-entry map) costs every start of graceful run about 0.7 ms, more
// than the start-up margin docs/performance.md holds graceful to.
func newManCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "man [DIR]",
		Short: "Write man pages for graceful and every subcommand to DIR",
		Long: `Man writes a man page (section 1) for graceful and for each subcommand,
generated from the same command tree as --help: graceful.1,
graceful-validate.1 and so on, into DIR (default: the current directory),
which is created if missing. Pages are dated SOURCE_DATE_EPOCH when it is
set, for reproducible builds, else today.`,
		Example: `  graceful man ./man && man ./man/graceful-validate.1
  graceful man /usr/local/share/man/man1`,
		Hidden: true,
		Args:   cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			date, err := manDate()
			if err != nil {
				return withStatus(exitUsage, err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return withStatus(exitFindings, err)
			}
			n, err := writeManTree(cmd.Root(), dir, date)
			if err != nil {
				return withStatus(exitFindings, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "graceful: %d man pages written to %s\n", n, dir)
			return nil
		},
	}
	return cmd
}

// manDate is the pages' date: SOURCE_DATE_EPOCH (reproducible-builds.org)
// when set, else today, in UTC.
func manDate() (string, error) {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
		}
		t = time.Unix(sec, 0)
	}
	return t.UTC().Format("2006-01-02"), nil
}

// manVersion is the version the pages' footer names, as graceful version
// prints it.
func manVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// manCommands lists the commands that get a page: the visible ones, root
// first, depth first.
func manCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			out = append(out, manCommands(sub)...)
		}
	}
	return out
}

// manName is a command's page name: graceful, graceful-validate,
// graceful-completion-bash.
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// writeManTree writes one page per command under root into dir and
// returns how many.
func writeManTree(root *cobra.Command, dir, date string) (int, error) {
	cmds := manCommands(root)
	for _, c := range cmds {
		path := filepath.Join(dir, manName(c)+".1")
		if err := os.WriteFile(path, manPage(c, date), 0o644); err != nil {
			return 0, err
		}
	}
	return len(cmds), nil
}

// manPage renders c's page in the man(7) macros.
func manPage(c *cobra.Command, date string) []byte {
	var b bytes.Buffer
	name := manName(c)
	fmt.Fprintf(&b, ".TH %s 1 %s %s %s\n", roffQuote(strings.ToUpper(name)), roffQuote(date),
		roffQuote("graceful "+manVersion()), roffQuote("graceful manual"))
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", roffText(name), roffText(c.Short))

	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(&b, ".B %s\n", roffText(c.CommandPath()))
	if use, ok := strings.CutPrefix(c.UseLine(), c.CommandPath()); ok && strings.TrimSpace(use) != "" {
		b.WriteString(roffLine(strings.TrimSpace(use)))
	}
	if c.HasAvailableSubCommands() {
		b.WriteString(".br\n")
		fmt.Fprintf(&b, ".B %s\n", roffText(c.CommandPath()))
		b.WriteString(".I COMMAND\n")
	}

	b.WriteString(".SH DESCRIPTION\n")
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	manParagraphs(&b, desc)

	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		manFlags(&b, fs)
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		manFlags(&b, fs)
	}
	if c.Example != "" {
		b.WriteString(".SH EXAMPLES\n.PP\n.nf\n.RS\n")
		for _, line := range strings.Split(strings.TrimRight(c.Example, "\n"), "\n") {
			b.WriteString(roffLine(strings.TrimPrefix(line, "  ")))
		}
		b.WriteString(".RE\n.fi\n")
	}

	var see []*cobra.Command
	if p := c.Parent(); p != nil {
		see = append(see, p)
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			see = append(see, sub)
		}
	}
	if len(see) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range see {
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, ".BR %s (1)%s\n", roffText(manName(s)), sep)
		}
	}
	return b.Bytes()
}

// manParagraphs writes text whose paragraphs are separated by blank
// lines; a paragraph with indented lines (a list, a table) keeps its
// lines as they are.
func manParagraphs(b *bytes.Buffer, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(para, "\n")
		pre := false
		for _, l := range lines {
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
				pre = true
			}
		}
		b.WriteString(".PP\n")
		if pre {
			b.WriteString(".nf\n")
		}
		for _, l := range lines {
			b.WriteString(roffLine(l))
		}
		if pre {
			b.WriteString(".fi\n")
		}
	}
}

// manFlags writes a tagged paragraph per visible flag.
func manFlags(b *bytes.Buffer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		tag := `\fB\-\-` + roffText(f.Name) + `\fR`
		if f.Shorthand != "" {
			tag = `\fB\-` + roffText(f.Shorthand) + `\fR, ` + tag
		}
		if varname != "" {
			tag += ` \fI` + roffText(varname) + `\fR`
		}
		b.WriteString(".TP\n")
		b.WriteString(tag + "\n")
		switch f.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			usage += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		b.WriteString(roffLine(usage))
	})
}

// roffText escapes s for a roff text line: a backslash is \e, a hyphen
// \- (a minus sign, so that flags are copied and searched as typed).
func roffText(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffLine is s escaped as one input line: a line that would start with a
// control character (. or ') gets the zero-width \& in front.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s + "\n"
}

// roffQuote quotes a macro argument.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `""`) + `"`
}
