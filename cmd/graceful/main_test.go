package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/engine/process"
)

// TestMain is the only TestMain of package main. The test binary doubles as
// graceful itself and as the jobs graceful runs (the os/exec helper-child
// pattern), so tests use real processes without shell scripts or a
// separately built binary:
//
//   - GRACEFUL_TEST_HELPER unset: run the tests.
//   - GRACEFUL_TEST_HELPER set and os.Args[1] == "job": be a test job
//     (testJob below).
//   - GRACEFUL_TEST_HELPER set otherwise: be graceful with os.Args[1:].
//
// gracefulCmd and jobArgv build such commands for any test of the package.
func TestMain(m *testing.M) {
	if os.Getenv("GRACEFUL_TEST_HELPER") == "" {
		os.Exit(m.Run())
	}
	if len(os.Args) > 1 && os.Args[1] == "job" {
		os.Exit(testJob(os.Args[2:]))
	}
	os.Exit(run(context.Background(), os.Args[1:]))
}

// gracefulCmd returns a command that runs the test binary as graceful with
// args.
func gracefulCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GRACEFUL_TEST_HELPER=1")
	if os.Getenv("GORACE") == "" {
		// A -race binary sleeps 1 s at exit by default; graceful and
		// its jobs are such binaries here.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// jobArgv is the argv of a test job (see testJob): the test binary in job
// mode. It only works under a command from gracefulCmd, whose environment
// the job inherits.
func jobArgv(args ...string) []string {
	return append([]string{os.Args[0], "job"}, args...)
}

// testJob is the job side of the helper. Jobs print "ready" on stdout once
// set up, so tests can wait for it.
//
//	exit N            exit with status N
//	die SIG           die of signal SIG (no Go goroutine dump for SIGQUIT)
//	term-exit N       print "got SIGINT" on SIGINT; on SIGTERM print "got SIGTERM", exit N
//	read-line         read a line from stdin, print "read: LINE", exit 0
//	ignore-term       ignore SIGTERM, run until killed
//	flood-on-term N   on SIGTERM print N numbered lines, then exit 0
//	count             print numbered lines until killed
func testJob(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "job: no mode")
		return 2
	}
	arg := func(i int) int {
		n, _ := strconv.Atoi(args[i])
		return n
	}
	switch args[0] {
	case "exit":
		return arg(1)
	case "die":
		sig, err := process.SignalNumber(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		process.Reraise(sig)
		return 2
	case "term-exit":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ready")
		for s := range ch {
			fmt.Println("got " + process.SignalName(s.(syscall.Signal)))
			if s == syscall.SIGTERM {
				break
			}
		}
		return arg(1)
	case "read-line":
		fmt.Println("ready")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			fmt.Println("read error:", err)
			return 1
		}
		fmt.Println("read: " + strings.TrimSpace(line))
		return 0
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "flood-on-term":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		<-ch
		for i := 0; i < arg(1); i++ {
			fmt.Printf("line %d\n", i)
		}
		return 0
	case "count":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		for i := 0; ; i++ {
			fmt.Printf("line %d\n", i)
		}
	}
	fmt.Fprintln(os.Stderr, "job: unknown mode", args[0])
	return 2
}
