// Command floor is the "stack floor" of graceful's benchmarks: a Go program
// that links the same third-party libraries as graceful (so their package
// initialisation runs) and does nothing but start the child, forward
// SIGTERM, SIGINT and SIGHUP to it through os/signal, wait for it and exit
// with its status. graceful run cannot start, or forward a signal through
// os/signal, faster than this.
//
// The blank imports are exactly the non-standard packages graceful's own
// packages import (TestSameLibraries checks that the floor links the same
// third-party packages as cmd/graceful), so that graceful / floor measures
// graceful's own start-up work and not its libraries'.
package main

import (
	"os"
	"os/signal"
	"syscall"

	_ "github.com/agext/levenshtein"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/hashicorp/hcl/v2/hcled"
	_ "github.com/hashicorp/hcl/v2/hclparse"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/hashicorp/hcl/v2/json"
	_ "github.com/looplab/fsm"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/pflag"
	_ "github.com/spf13/viper"
	_ "github.com/zclconf/go-cty/cty"
	_ "github.com/zclconf/go-cty/cty/convert"
	_ "github.com/zclconf/go-cty/cty/function"
	_ "github.com/zclconf/go-cty/cty/function/stdlib"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	p, err := os.StartProcess(os.Args[1], os.Args[1:], &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		os.Exit(127)
	}
	go func() {
		for s := range sigs {
			_ = p.Signal(s)
		}
	}()
	st, err := p.Wait()
	if err != nil {
		os.Exit(125)
	}
	os.Exit(st.ExitCode())
}
