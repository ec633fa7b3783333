//go:build linux

package startsignals_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graceful-sh/graceful/internal/startsignals"
)

// childEnv makes the test binary run child instead of the tests. Its
// arguments are then what a graceful command line's would be.
const childEnv = "GRACEFUL_STARTSIGNALS_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		child()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child reports what package initialisation began, and whether a SIGTERM
// it sends itself arrives on the catch's channel.
func child() {
	ch, asked, done, ok := startsignals.Take()
	_, _, _, again := startsignals.Take()
	fmt.Printf("taken=%v again=%v hup-ignored=%v\n", ok, again, startsignals.IgnoredAtStart(syscall.SIGHUP))
	if !ok {
		return
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		fmt.Println("catch never done")
		return
	}
	fmt.Printf("asked-base=%v hup-still-ignored=%v\n", slices.Equal(asked, startsignals.Base()), signal.Ignored(syscall.SIGHUP))
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case s := <-ch:
		fmt.Printf("received=%v\n", s)
	case <-time.After(5 * time.Second):
		fmt.Println("received=nothing")
	}
}

func runChild(t *testing.T, ignoreHUP bool, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if ignoreHUP {
		// A child inherits what its parent ignores, as under nohup.
		signal.Ignore(syscall.SIGHUP)
		defer signal.Reset(syscall.SIGHUP)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %v: %v, output %q", args, err, out)
	}
	return string(out)
}

// A run command line has the base signals caught from package
// initialisation on, once, on a channel that then receives them.
func TestRunCommandLineCatchesDuringInit(t *testing.T) {
	out := runChild(t, false, "run", "--", "true")
	for _, want := range []string{"taken=true again=false hup-ignored=false", "asked-base=true hup-still-ignored=false", "received=terminated"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output %q lacks %q", out, want)
		}
	}
}

// A signal graceful was started with ignored stays ignored (the job
// inherits it so), and is known as such after the catch.
func TestIgnoredAtStartStaysIgnored(t *testing.T) {
	out := runChild(t, true, "run", "--", "true")
	for _, want := range []string{"taken=true again=false hup-ignored=true", "hup-still-ignored=true", "received=terminated"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output %q lacks %q", out, want)
		}
	}
}

// Any other command line catches nothing at initialisation.
func TestOtherCommandLinesCatchNothing(t *testing.T) {
	for _, args := range [][]string{{"validate", "x.hcl"}, {"--config", "g.yaml", "run"}, nil} {
		out := runChild(t, false, args...)
		if !strings.Contains(out, "taken=false") {
			t.Errorf("child %v output %q, want nothing taken", args, out)
		}
	}
}
