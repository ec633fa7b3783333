//go:build linux

package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestLiveFindsMarkedProcessesOnly(t *testing.T) {
	marker := fmt.Sprintf("PROCTEST_MARKER=%d", time.Now().UnixNano())
	start := func(env string) *exec.Cmd {
		cmd := exec.Command("sleep", "30")
		cmd.Env = append(os.Environ(), env)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	marked := start(marker)
	start(marker + "0") // a longer value is another marker
	if got := Live(marker); !slices.Equal(got, []int{marked.Process.Pid}) {
		t.Fatalf("Live = %v, want [%d]", got, marked.Process.Pid)
	}
	// Dead but unreaped is not live.
	_ = marked.Process.Kill()
	if got := LiveAfter(marker, 5*time.Second); len(got) != 0 {
		t.Errorf("LiveAfter a kill = %v, want none (zombies are not live)", got)
	}
	_ = marked.Wait()
}
