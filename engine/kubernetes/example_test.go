//go:build linux

package kubernetes_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes"
)

// A coordinator and one job container's session in one process. In a pod
// they are `graceful run --profile kubernetes` and `graceful join`, and the
// coordinator is the Target of an engine, which calls Notify("interrupt")
// when the kubelet's SIGTERM arrives.
func Example() {
	dir, _ := os.MkdirTemp("/tmp", "example")
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "socket")
	token, _ := kubernetes.EnsureToken(filepath.Join(dir, "token"))

	coord, err := kubernetes.Listen(kubernetes.Config{
		Socket: socket,
		Token:  token,
		Jobs:   []string{"build"},
		Output: os.Stdout, // job output, "[name] "-prefixed
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer coord.Close()

	// The job container's side.
	ctx := context.Background()
	sess, err := kubernetes.Join(ctx, kubernetes.ClientConfig{Socket: socket, Token: token, Name: "build"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()
	if start, _ := sess.WaitTurn(ctx); start {
		fmt.Fprintln(sess.LogWriter("stdout"), "compiling")
		_ = sess.ReportExit(ctx, engine.Exit{Code: 0})
	}

	exit := <-coord.Done()
	for _, s := range coord.Statuses() {
		fmt.Printf("%s: %s, status %d\n", s.Name, s.State, s.Exit.Status())
	}
	fmt.Println("job status:", exit.Status())
	// Output:
	// [build] compiling
	// build: exited, status 0
	// job status: 0
}
