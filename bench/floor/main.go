// Command floor is the "stack floor" of graceful's start-up benchmark: a Go
// program that links the same libraries as graceful (so their package
// initialisation runs) and does nothing but start the child, wait for it
// and exit with its status. graceful run cannot start faster than this.
package main

import (
	"os"

	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/looplab/fsm"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "k8s.io/api/core/v1"
	_ "sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	p, err := os.StartProcess(os.Args[1], os.Args[1:], &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		os.Exit(127)
	}
	st, err := p.Wait()
	if err != nil {
		os.Exit(125)
	}
	os.Exit(st.ExitCode())
}
