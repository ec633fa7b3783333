//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/graceful-sh/graceful/internal/proctest"
)

// guardArg is the first argument of graceful's guardian process
// (engine/process.GuardArg; not imported, the probe links no engine).
const guardArg = "__graceful-guard"

// cmdline is /proc/PID/cmdline split at its NULs ("" if gone).
func cmdline(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// isGuardian tells whether pid is a graceful guardian (of any supervisor).
func isGuardian(pid int) bool {
	a := cmdline(pid)
	return len(a) > 1 && a[1] == guardArg
}

// guardianOf finds the guardian of supervisor sup (0 if none).
func guardianOf(sup int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if a := cmdline(pid); len(a) > 2 && a[1] == guardArg && a[2] == strconv.Itoa(sup) {
			return pid
		}
	}
	return 0
}

// liveThreads counts the threads of pid that are not zombies: a process
// whose leader has exited shows "Z" in /proc/PID/stat while other threads
// live on (systemd#12262), and proctest.Live, which skips zombies and
// cannot read such a process's environment, does not see it.
func liveThreads(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, e.Name()))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X' {
			n++
		}
	}
	return n
}

// zombie: the job leaves a process whose main thread exited while a thread
// lives on (ZOMBIELEADER, cmd/graceful/testdata/c/zombieleader.c, in a
// session of its own). "exit": that is the whole job, which exits at once;
// the time is from the job's exit (its "escaped" line) to the
// supervisor's. "cancel": the job then sleeps, ignoring SIGTERM, and 300 ms
// later SIGTERM goes to the supervisor, whose kill step (SIGKILL to the
// tree) is due 500 ms later; the time is from the SIGTERM. Then, 100 ms
// after the supervisor exited, is the escaped process still alive?
func zombie(zl, mode string, sup []string) {
	var job []string
	switch mode {
	case "exit":
		job = []string{zl, "60"}
	case "cancel":
		job = []string{"/bin/sh", "-c", `"$0" 60; trap "" TERM; echo ready; exec sleep 1000`, zl}
	default:
		fail("zombie: mode exit or cancel")
	}
	marker := fmt.Sprintf("PROBE_MARKER=%d", time.Now().UnixNano())
	cmd, out := startEnv(sup, []string{marker}, job...)
	f := strings.Fields(readLine(out))
	if len(f) != 2 || f[0] != "escaped" {
		fail("zombie: unexpected job output " + strings.Join(f, " "))
	}
	esc := atoi(f[1])
	if mode == "cancel" {
		readLine(out)
		time.Sleep(300 * time.Millisecond) // past graceful's 200 ms settle
	}
	t0 := time.Now()
	if mode == "cancel" {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	exited := make(chan time.Time, 1)
	go func() { _ = cmd.Wait(); exited <- time.Now() }()
	exit := "never"
	select {
	case t := <-exited:
		exit = fmt.Sprintf("%.1f", ms(t.Sub(t0)))
	case <-time.After(8 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	time.Sleep(100 * time.Millisecond)
	left := 0
	if liveThreads(esc) > 0 {
		left = 1
		_ = syscall.Kill(esc, syscall.SIGKILL)
	}
	// What a peer left of the job itself (the cancelled job's sleep).
	for _, pid := range proctest.Live(marker) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	fmt.Printf("zombie mode=%s left=%d exit_ms=%s\n", mode, left, exit)
}

// guardkill: the 100-descendant tree of tree (half of it setsid daemons);
// once it runs and at least SETTLE after the start (graceful starts its
// guardian 200 ms into a run), SIGKILL to the supervisor; then the job's
// processes are counted every 5 ms for 3 s. Reports how many were left
// 100 ms and 3 s after the kill, when the last one went, when the last
// guardian went, and whether graceful's cgroup leaf was left behind.
func guardkill(settle time.Duration, sup []string) {
	cmd, dir, marker, started := startTree(sup, "probe-guardkill")
	defer os.RemoveAll(dir)
	if d := settle - time.Since(started); d > 0 {
		time.Sleep(d)
	}
	count := func() (job, guard []int) {
		for _, pid := range proctest.Live(marker) {
			if isGuardian(pid) {
				guard = append(guard, pid)
			} else {
				job = append(job, pid)
			}
		}
		return
	}
	before, guards := count()
	t0 := time.Now()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	left100, jobZero, allZero := -1, time.Duration(-1), time.Duration(-1)
	var job []int
	for {
		var g []int
		job, g = count()
		el := time.Since(t0)
		if left100 < 0 && el >= 100*time.Millisecond {
			left100 = len(job)
		}
		if jobZero < 0 && len(job) == 0 {
			jobZero = el
		}
		if allZero < 0 && len(job) == 0 && len(g) == 0 {
			allZero = el
		}
		if (allZero >= 0 && left100 >= 0) || el > 3*time.Second {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	left3s := len(job)
	for _, pid := range proctest.Live(marker) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if allZero >= 0 {
		left3s = 0
	}
	leaves := staleLeaves(cmd.Process.Pid)
	msOr := func(d time.Duration) string {
		if d < 0 {
			return "never"
		}
		return fmt.Sprintf("%.1f", ms(d))
	}
	fmt.Printf("guardkill started=%d guardians=%d left_100ms=%d left_3s=%d zero_ms=%s guardian_gone_ms=%s leaf_left=%d\n",
		len(before), len(guards), left100, left3s, msOr(jobZero), msOr(allZero), leaves)
}

// staleLeaves counts (and removes) the cgroup leaves graceful pid made
// (graceful-PID-N below our own cgroup) that are still there.
func staleLeaves(pid int) int {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var rel string
	for _, l := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(l, "0::"); ok {
			rel = r
		}
	}
	n := 0
	for _, mount := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		m, _ := filepath.Glob(filepath.Join(mount, rel, fmt.Sprintf("graceful-%d-*", pid)))
		for _, d := range m {
			n++
			_ = os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0)
			for i := 0; i < 100 && os.Remove(d) != nil; i++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	return n
}

// pidsCgroup makes a cgroup with the pids controller for one supervisor:
// in the cgroup v1 pids hierarchy if there is one, else below our own
// cgroup v2 one if it offers pids. It returns the directory.
func pidsCgroup() (string, error) {
	// bench/run.sh removes what a killed probe left by this prefix.
	name := fmt.Sprintf("probe-reap-%s-%d-%d", os.Getenv("BENCH_RUN"), os.Getpid(), time.Now().UnixNano())
	var tried []string
	if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err == nil {
		d := filepath.Join("/sys/fs/cgroup/pids", name)
		if err := os.Mkdir(d, 0o755); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pids.peak")); err == nil {
				return d, nil
			}
			_ = os.Remove(d)
			tried = append(tried, "v1 pids: no pids.peak")
		} else {
			tried = append(tried, "v1 pids: "+err.Error())
		}
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, l := range strings.Split(string(b), "\n") {
		rel, ok := strings.CutPrefix(l, "0::")
		if !ok {
			continue
		}
		for _, mount := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
			own := filepath.Join(mount, rel)
			if _, err := os.Stat(filepath.Join(own, "cgroup.subtree_control")); err != nil {
				continue
			}
			_ = os.WriteFile(filepath.Join(own, "cgroup.subtree_control"), []byte("+pids"), 0)
			d := filepath.Join(own, name)
			if err := os.Mkdir(d, 0o755); err != nil {
				tried = append(tried, "v2: "+err.Error())
				continue
			}
			if _, err := os.Stat(filepath.Join(d, "pids.peak")); err == nil {
				return d, nil
			}
			_ = os.Remove(d)
			tried = append(tried, "v2 "+own+": no pids.peak")
		}
	}
	return "", fmt.Errorf("no cgroup with pids.peak (%s)", strings.Join(tried, "; "))
}

// reap: the supervisor, moved into a pids cgroup of its own before it
// starts, runs ORPHANS (bench/c/orphans.c: 100 orphans every 10 ms for
// SECONDS); the cgroup's pids.peak is the most processes and threads
// (zombies included: a pid is freed when it is reaped) the supervisor's
// tree held at once, and mean the mean of pids.current sampled every 5 ms
// while the job ran.
func reap(orphans, secs string, sup []string) {
	d, err := pidsCgroup()
	if err != nil {
		fail(err.Error())
	}
	defer func() {
		_ = os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0)
		for i := 0; i < 200 && os.Remove(d) != nil; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_ = os.WriteFile(filepath.Join(d, "pids.max"), []byte("20000"), 0)
	shim := []string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(d, "cgroup.procs")}
	cmd, out := start(append(shim, sup...), orphans, "100", "10", secs)
	// pids.current every 5 ms while the job runs: its mean is steadier
	// than the peak.
	stop, meanc := make(chan struct{}), make(chan float64, 1)
	go func() {
		sum, n := 0, 0
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				meanc <- float64(sum) / float64(max(n, 1))
				return
			case <-t.C:
				b, err := os.ReadFile(filepath.Join(d, "pids.current"))
				if v, err2 := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && err2 == nil {
					sum += v
					n++
				}
			}
		}
	}()
	// The supervisor's own tasks (its threads, and its guardian's), once
	// it has settled: they count in pids.peak too.
	time.Sleep(500 * time.Millisecond)
	own := threads(cmd.Process.Pid)
	if g := guardianOf(cmd.Process.Pid); g != 0 {
		own += threads(g)
	}
	res := readLine(out)
	close(stop)
	mean := <-meanc
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		fail("reap: the supervisor did not exit 10 s after the job")
	}
	peak, _ := os.ReadFile(filepath.Join(d, "pids.peak"))
	events, _ := os.ReadFile(filepath.Join(d, "pids.events"))
	fmt.Printf("reap peak=%s mean=%.1f own=%d %s limit_hits=%s\n", strings.TrimSpace(string(peak)), mean, own, res,
		strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(events)), "max ")))
}

// pidsCheck exits 0 if reap can make its pids cgroup, else prints why
// and exits 1.
func pidsCheck() {
	d, err := pidsCgroup()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	_ = os.Remove(d)
	os.Exit(0)
}

// guardianRSS is the VmRSS in KiB of supervisor sup's guardian (0: none).
func guardianRSS(sup int) int {
	g := guardianOf(sup)
	if g == 0 {
		return 0
	}
	return vmRSS(g)
}

func vmRSS(pid int) int { return status(pid, "VmRSS:") }

// threads is the number of threads of pid.
func threads(pid int) int { return status(pid, "Threads:") }

// status is the first number of a line of /proc/PID/status.
func status(pid int, key string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key); ok {
			if f := strings.Fields(v); len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return 0
}
