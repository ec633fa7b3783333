//go:build linux

// Command probe measures supervisors (graceful, tini, dumb-init,
// catatonit, coreutils timeout) for bench/run.sh. It plays both sides: the
// measuring parent and the job the supervisor runs.
//
//	probe forward N  -- SUPERVISOR...   signal forwarding latency
//	probe escalate N GRACE [lanes=L] [settle=D] [ktrace=1] -- SUPERVISOR...
//	                                    SIGKILL precision after SIGTERM
//	probe tree GRACE -- SUPERVISOR...   100-descendant teardown
//	probe zombie ZOMBIELEADER exit|cancel -- SUPERVISOR...
//	                                    teardown of a zombie leader
//	probe guardkill SETTLE -- SUPERVISOR...
//	                                    teardown with the supervisor SIGKILLed
//	probe reap ORPHANS SECONDS -- SUPERVISOR...
//	                                    peak pids under orphan churn
//	probe rss -- SUPERVISOR...          resident set while supervising
//	probe pairs N -- CMD... ;; CMD...   interleaved wall times, paired ratios
//	probe firstpairs N WAIT -- SUPERVISOR... ;; SUPERVISOR...
//	                                    first cancelling signal, paired ratios
//
// The supervisor's argv ends with "--" or whatever it needs; probe appends
// the job's argv itself.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/internal/proctest"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe forward|firstpairs|escalate|tree|zombie|guardkill|reap|rss|pairs ... -- SUPERVISOR...")
	}
	switch os.Args[1] {
	case "child-forward":
		childForward()
	case "pidscheck":
		pidsCheck()
	}
	args, sup := split(os.Args[2:])
	switch os.Args[1] {
	case "forward":
		forward(atoi(args[0]), sup)
	case "pairs":
		pairs(atoi(args[0]), splitCommands(sup), runOnce)
	case "firstpairs":
		wait := dur(args[1])
		pairs(atoi(args[0]), splitCommands(sup), func(argv []string) float64 { return ms(firstOnce(wait, argv)) })
	case "escalate":
		escalate(atoi(args[0]), dur(args[1]), opts(args[2:]), sup)
	case "tree":
		tree(dur(args[0]), sup)
	case "zombie":
		zombie(args[0], args[1], sup)
	case "guardkill":
		guardkill(dur(args[0]), sup)
	case "reap":
		reap(args[0], args[1], sup)
	case "rss":
		rss(sup)
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func split(args []string) (own, sup []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	fail("missing -- SUPERVISOR")
	return nil, nil
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probe:", msg)
	exit(2)
}

var (
	exitMu    sync.Mutex
	exitHooks []func()
)

// atExit registers f to run when the probe exits through exit, fail or an
// interrupt (SIGINT, SIGTERM), which the first registration starts to
// catch.
func atExit(f func()) {
	exitMu.Lock()
	defer exitMu.Unlock()
	if exitHooks == nil {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() { <-c; exit(130) }()
	}
	exitHooks = append(exitHooks, f)
}

// exit runs the atExit functions and exits with code.
func exit(code int) {
	exitMu.Lock()
	hooks := exitHooks
	exitHooks = nil
	exitMu.Unlock()
	for _, f := range hooks {
		f()
	}
	os.Exit(code)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err.Error())
	}
	return n
}

func dur(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		fail(err.Error())
	}
	return d
}

func self() string {
	p, err := os.Executable()
	if err != nil {
		fail(err.Error())
	}
	return p
}

// start runs the supervisor with the job argv appended; the job's stdout
// is the returned reader.
func start(sup []string, job ...string) (*exec.Cmd, *bufio.Reader) {
	return startEnv(sup, nil, job...)
}

// startEnv is start with env added to the environment.
func startEnv(sup, env []string, job ...string) (*exec.Cmd, *bufio.Reader) {
	argv := append(append([]string(nil), sup...), job...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail(err.Error())
	}
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	return cmd, bufio.NewReader(out)
}

func readLine(r *bufio.Reader) string {
	l, err := r.ReadString('\n')
	if err != nil {
		fail("job output: " + err.Error())
	}
	return strings.TrimSpace(l)
}

// childForward is the job for forward: it prints its pid, then writes one
// byte per SIGTERM it receives.
func childForward() {
	ch := make(chan os.Signal, 64)
	signal.Notify(ch, syscall.SIGTERM)
	fmt.Printf("%d\n", os.Getpid())
	for range ch {
		os.Stdout.Write([]byte{'x'})
	}
}

// firstOnce starts the supervisor with a job that reports its SIGTERM,
// waits, sends the supervisor SIGTERM and returns the time until the
// job's handler ran; then it ends the run. That is the first (cancelling)
// signal of a run, on a path nothing has warmed, soon after start or
// after the supervisor settled (graceful drops its start-up pages 200 ms
// in).
func firstOnce(wait time.Duration, sup []string) time.Duration {
	cmd, out := start(sup, self(), "child-forward")
	pid := atoi(readLine(out))
	time.Sleep(wait)
	t0 := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		fail(err.Error())
	}
	buf := make([]byte, 1)
	if _, err := out.Read(buf); err != nil {
		fail("job output: " + err.Error())
	}
	d := time.Since(t0)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = cmd.Wait()
	return d
}

// forward: SIGTERM to the supervisor, time until the job's handler ran.
func forward(n int, sup []string) {
	cmd, out := start(sup, self(), "child-forward")
	pid := atoi(readLine(out))
	var lat []time.Duration
	buf := make([]byte, 1)
	for i := 0; i < n+20; i++ {
		t0 := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			fail(err.Error())
		}
		if _, err := out.Read(buf); err != nil {
			fail("job output: " + err.Error())
		}
		if i >= 20 { // warm-up
			lat = append(lat, time.Since(t0))
		}
		time.Sleep(2 * time.Millisecond) // let the signal be consumed, so none merge
	}
	// End the job; every supervisor then exits by itself (a SIGKILLed
	// graceful would leave its empty cgroup leaf behind).
	_ = syscall.Kill(pid, syscall.SIGKILL)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	report("forward", lat)
}

// opts parses the optional key=value arguments of a mode.
func opts(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			fail("bad option " + a)
		}
		m[k] = v
	}
	return m
}

// escalate: a job that ignores SIGTERM; SIGTERM to the supervisor at t0
// (settle after the job started: default 20 ms); the job's death time
// minus t0+grace. With lanes=L, L supervisors run at once (lane i starts
// i×700 ms late, so that no two deaths are due together), each for its
// share of the n runs: for long graces, where every run mostly sleeps.
//
// The job is one single-threaded process (sh, then exec sleep with SIGTERM
// ignored): its death after SIGKILL is then one thread's exit, where a Go
// job's is that of each of its threads, every one of which must be
// scheduled first (measured here: 0.15 to 0.25 ms more at the median, for
// either supervisor), so that the measure is the supervisor's.
//
// With ktrace=1 the kernel's signal trace (sigTrace) also gives, for each
// run, when the supervisor's SIGKILL to the job was sent, counted from
// when the probe's SIGTERM to the supervisor was: reported as a second
// line, "escalate-kill". That is the escalation itself; the death adds
// the job's exit and the probe's wake-up, which no supervisor controls.
// A third line, "escalate-fwd", is when the supervisor's own SIGTERM to
// the job was sent, from the same origin: how long it took to react to
// the cancel. A supervisor that counts its grace from its own reaction
// is late by at least that much.
func escalate(n int, grace time.Duration, o map[string]string, sup []string) {
	lanes, settle := 1, 20*time.Millisecond
	if v, ok := o["lanes"]; ok {
		lanes = atoi(v)
	}
	if v, ok := o["settle"]; ok {
		settle = dur(v)
	}
	var tr *sigTrace
	if o["ktrace"] == "1" {
		var err error
		if tr, err = openSigTrace(); err != nil {
			fmt.Fprintf(os.Stderr, "probe: no kernel signal trace, the SIGKILL's own time is not measured: %v\n", err)
		} else {
			defer tr.close()
		}
	}
	var (
		mu       sync.Mutex
		late     []time.Duration
		killLate []time.Duration
		fwd      []time.Duration
		wg       sync.WaitGroup
	)
	for l := 0; l < lanes; l++ {
		runs := n / lanes
		if l < n%lanes {
			runs++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(l) * 700 * time.Millisecond)
			for i := 0; i < runs; i++ {
				d, supPid, jobPid := escalateOnce(grace, settle, sup)
				var k, f time.Duration
				var kOK bool
				if tr != nil {
					k, f, kOK = tr.killLate(supPid, jobPid, grace)
				}
				mu.Lock()
				late = append(late, d)
				if kOK {
					killLate = append(killLate, k)
					fwd = append(fwd, f)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	report("escalate", late)
	if tr != nil {
		if len(killLate) < len(late) {
			fmt.Fprintf(os.Stderr, "probe: the kernel trace missed %d of %d runs' signals\n", len(late)-len(killLate), len(late))
		}
		if len(killLate) > 0 {
			report("escalate-kill", killLate)
			report("escalate-fwd", fwd)
		}
	}
}

// killLate is how late the first SIGKILL to the job came, counted from the
// first SIGTERM to the supervisor (the probe's) plus grace, and how long
// after that SIGTERM the supervisor's first SIGTERM to the job came (zero
// if it sent none), all in the kernel's trace.
func (t *sigTrace) killLate(supPid, jobPid int, grace time.Duration) (late, fwd time.Duration, ok bool) {
	term, ok := t.first(int(syscall.SIGTERM), supPid, 0, 2*time.Second)
	if !ok {
		return 0, 0, false
	}
	kill, ok := t.first(int(syscall.SIGKILL), jobPid, term, 2*time.Second)
	if !ok {
		return 0, 0, false
	}
	if f, ok := t.first(int(syscall.SIGTERM), jobPid, term, 0); ok && f <= kill {
		fwd = time.Duration(f - term)
	}
	return time.Duration(kill-term) - grace, fwd, true
}

// ignoringJob prints its pid and then sleeps with SIGTERM ignored, in the
// same process.
var ignoringJob = []string{"sh", "-c", `trap "" TERM; echo $$; exec sleep 100000`}

// escalateOnce returns the job's lateness of death and the pids of the
// supervisor and the job.
func escalateOnce(grace, settle time.Duration, sup []string) (time.Duration, int, int) {
	cmd, out := start(sup, ignoringJob...)
	pid := atoi(readLine(out))
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		fail(err.Error())
	}
	defer unix.Close(fd)
	time.Sleep(settle)
	t0 := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	limit := t0.Add(grace + 10*time.Second)
	for fds[0].Revents == 0 {
		left := time.Until(limit)
		if left <= 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			fail("the job was not killed 10 s after it was due")
		}
		_, _ = unix.Poll(fds, int(left/time.Millisecond)+1)
	}
	d := time.Since(t0) - grace
	_ = cmd.Wait()
	return d, cmd.Process.Pid, pid
}

// treeScript is the job of tree and guardkill: 100 descendants, half
// escaped with setsid (daemons) and ignoring SIGTERM; it prints "ready"
// once all run. The leader survives SIGTERM (a trap, not inherited by its
// children) so the supervisor has to escalate.
const treeScript = `
trap : TERM
i=0
while [ $i -lt 100 ]; do
  if [ $((i % 2)) -eq 0 ]; then
    sh -c 'echo R >> r.txt; exec sleep 1000' &
  else
    setsid sh -c 'trap "" TERM; (trap "" TERM; echo R >> r.txt; exec sleep 1000) & exit 0' &
  fi
  i=$((i+1))
done
while [ "$(grep -c R r.txt 2>/dev/null)" != 100 ]; do sleep 0.01; done
echo ready
while :; do wait; done`

// startTree starts treeScript under sup in a directory of its own (the
// caller removes dir), with a fresh marker in the environment of every
// process of the job, and waits until the job says it is ready. started
// is when the supervisor was started.
func startTree(sup []string, name string) (cmd *exec.Cmd, dir, marker string, started time.Time) {
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		fail(err.Error())
	}
	marker = fmt.Sprintf("PROBE_MARKER=%d", time.Now().UnixNano())
	argv := append(append([]string(nil), sup...), "/bin/sh", "-c", treeScript)
	cmd = exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), marker)
	cmd.Stderr = os.Stderr
	pr, err := cmd.StdoutPipe()
	if err != nil {
		fail(err.Error())
	}
	started = time.Now()
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	readLine(bufio.NewReader(pr))
	return cmd, dir, marker, started
}

// tree: 100 descendants, half escaped with setsid and ignoring SIGTERM.
// SIGTERM to the supervisor, which is waited for (SIGKILLed after 3 s if it
// does not exit); then the leftovers are counted (and killed).
func tree(grace time.Duration, sup []string) {
	cmd, dir, marker, _ := startTree(sup, "probe-tree")
	defer os.RemoveAll(dir)
	before := len(proctest.Live(marker))
	t0 := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan time.Time, 1)
	go func() { _ = cmd.Wait(); exited <- time.Now() }()
	var exitAt time.Duration
	select {
	case t := <-exited:
		exitAt = t.Sub(t0)
	case <-time.After(grace + 3*time.Second):
		_ = cmd.Process.Kill()
		exitAt = -1
		<-exited
	}
	time.Sleep(100 * time.Millisecond) // SIGKILLed processes vanish
	left := proctest.Live(marker)
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if exitAt < 0 {
		fmt.Printf("tree started=%d left=%d exit_ms=never exit_after_due_ms=never\n", before, len(left))
		return
	}
	fmt.Printf("tree started=%d left=%d exit_ms=%.1f exit_after_due_ms=%.1f\n",
		before, len(left), ms(exitAt), ms(exitAt-grace))
}

// rss: the supervisor's VmRSS while it supervises a sleeping job, and
// that of its guardian (graceful's __graceful-guard) if it has one.
func rss(sup []string) {
	argv := append(append([]string(nil), sup...), "/bin/sleep", "1")
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	time.Sleep(500 * time.Millisecond)
	kb := vmRSS(cmd.Process.Pid)
	gkb := guardianRSS(cmd.Process.Pid)
	_ = cmd.Wait()
	fmt.Printf("rss kib=%d mib=%.2f guardian_kib=%d guardian_mib=%.2f\n", kb, float64(kb)/1024, gkb, float64(gkb)/1024)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func report(name string, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
	fmt.Printf("%s n=%d median_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f\n",
		name, len(ds), ms(q(0.5)), ms(q(0.99)), ms(ds[0]), ms(ds[len(ds)-1]))
}
