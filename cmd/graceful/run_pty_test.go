//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/internal/proctest"
)

// ptyRun is `graceful run` as the session leader of a fresh terminal, as
// when a person types it in a shell: graceful is the terminal's foreground
// process group and Ctrl-C (a 0x03 byte written to the master) makes the
// kernel send it SIGINT.
type ptyRun struct {
	t    *testing.T
	pid  int
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func startPtyRun(t *testing.T, args ...string) (*ptyRun, string) {
	t.Helper()
	return startPtyRunPolicy(t, testPolicy("5s", "6s", ""), args...)
}

func startPtyRunPolicy(t *testing.T, policy string, args ...string) (*ptyRun, string) {
	t.Helper()
	return startPtyRunEnv(t, nil, policy, args...)
}

// startPtyRunEnv is startPtyRunPolicy with more environment variables for
// graceful (and the job). TERM is xterm-256color unless env sets it.
func startPtyRunEnv(t *testing.T, env []string, policy string, args ...string) (*ptyRun, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.hcl")
	if err := os.WriteFile(file, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	marker := "GRACEFUL_TEST_MARKER=" + strings.ReplaceAll(t.Name(), "/", "_") + time.Now().Format("150405.000000000")
	cmd := gracefulCmd(append([]string{"run", "--policy", file, "--profile", "test"}, args...)...)
	cmd.Env = append(cmd.Env, "TERM=xterm-256color", marker)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = dir
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{t: t, pid: cmd.Process.Pid, tty: tty, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				break
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
			t.Errorf("graceful did not exit; terminal:\n%s", p.output())
		}
		tty.Close()
		proctest.AssertNoneLeft(t, marker, 2*time.Second)
	})
	return p, marker
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the terminal has shown s, and returns what it showed.
func (p *ptyRun) waitFor(s string) string {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := p.output()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("terminal never showed %q; it showed:\n%q", s, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *ptyRun) typeKeys(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.tty, s); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyRun) exitCode() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("graceful did not exit; terminal:\n%s", p.output())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(interface{ ExitCode() int }); ok {
		return ee.ExitCode()
	}
	p.t.Fatal(p.err)
	return -1
}

// Ctrl-C in an interactive terminal goes to graceful, not to the job (it
// is in a background process group of its own): the 1st drains and the
// status line says what the next one does, the 2nd cancels.
func TestRunPtyCtrlC(t *testing.T) {
	p, _ := startPtyRun(t, append([]string{"--"}, jobArgv("term-exit", "0")...)...)
	p.waitFor("ready")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to cancel")
	p.typeKeys("\x03")
	out := p.waitFor("got SIGTERM")
	if code := p.exitCode(); code != 0 {
		t.Errorf("exit %d, want 0; terminal:\n%s", code, p.output())
	}
	if strings.Contains(out, "got SIGINT") {
		t.Errorf("the job got SIGINT from the terminal, bypassing the profile:\n%s", out)
	}
}

// The third Ctrl-C exits at once, and the status line said it would.
func TestRunPtyThirdCtrlC(t *testing.T) {
	p, _ := startPtyRun(t, append([]string{"--"}, jobArgv("ignore-term")...)...)
	p.waitFor("ready")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to cancel")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to exit now")
	p.typeKeys("\x03")
	if code := p.exitCode(); code != 123 {
		t.Errorf("exit %d, want 123 (abandoned); terminal:\n%s", code, p.output())
	}
}

// With --foreground the job owns the terminal: it can read it, and Ctrl-C
// goes to the job directly. The terminal is given back at the end.
func TestRunPtyForeground(t *testing.T) {
	p, _ := startPtyRun(t, append([]string{"--foreground", "--"}, jobArgv("read-line")...)...)
	p.waitFor("ready")
	p.typeKeys("hello\r")
	p.waitFor("read: hello")
	if code := p.exitCode(); code != 0 {
		t.Errorf("exit %d, want 0; terminal:\n%s", code, p.output())
	}
}

// Without --foreground a job that reads the terminal is stopped by the
// kernel (SIGTTIN); graceful says so, and cancelling still works: SIGTERM
// is followed by SIGCONT (a job that goes back to reading may be stopped
// again before it acts on SIGTERM; the SIGKILL then ends it).
func TestRunPtyBackgroundRead(t *testing.T) {
	p, _ := startPtyRunPolicy(t, testPolicy("300ms", "3s", ""), append([]string{"--"}, jobArgv("read-line")...)...)
	p.waitFor("ready")
	p.waitFor("run with --foreground")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to cancel")
	p.typeKeys("\x03")
	if code := p.exitCode(); code != 143 && code != 137 {
		t.Errorf("exit %d, want 143 (SIGTERM) or 137 (SIGKILL); terminal:\n%s", code, p.output())
	}
}

// After a --foreground job, graceful has the terminal again: its
// finalisation (a child of graceful) sees graceful's group as the
// terminal's foreground group (field tpgid of /proc/PID/stat).
func TestRunPtyForegroundRestored(t *testing.T) {
	policy := testPolicy("5s", "6s", `set -- $(sed 's/.*) //' /proc/$$/stat); echo "fg:$6:$(sed 's/.*) //' /proc/$PPID/stat | cut -d' ' -f3):end"`)
	p, _ := startPtyRunPolicy(t, policy, append([]string{"--foreground", "--"}, jobArgv("exit", "0")...)...)
	p.waitFor(":end\r")
	if code := p.exitCode(); code != 0 {
		t.Errorf("exit %d; terminal:\n%s", code, p.output())
	}
	m := regexp.MustCompile(`fg:(\d+):(\d+):end`).FindStringSubmatch(p.output())
	if m == nil || m[1] != m[2] {
		t.Errorf("the terminal's foreground group is not graceful's (fg:TPGID:PGID %q); terminal:\n%s", m, p.output())
	}
}

// Ctrl-Z stops the job and then graceful, as the shell expects of one
// foreground job; SIGCONT (the shell's fg) continues both.
func TestRunPtyCtrlZ(t *testing.T) {
	for _, fg := range []bool{false, true} {
		t.Run(fmt.Sprintf("foreground %v", fg), func(t *testing.T) {
			args := []string{"--"}
			if fg {
				args = []string{"--foreground", "--"}
			}
			p, _ := startPtyRun(t, append(args, jobArgv("term-exit", "0")...)...)
			p.waitFor("ready")
			// Past the guardian's start (200 ms in, with a cgroup):
			// graceful has two children then, and childOf must pick the
			// job (it once took the guardian, which no Ctrl-Z stops).
			time.Sleep(300 * time.Millisecond)
			job := childOf(t, p.pid)
			p.typeKeys("\x1a")
			waitState(t, p.pid, 'T')
			waitState(t, job, 'T')
			if err := syscall.Kill(p.pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			waitState(t, job, 'S')
			waitState(t, p.pid, 'S')
			// Ends as usual: SIGTERM to graceful twice (Ctrl-C would go to
			// the job in foreground mode).
			_ = syscall.Kill(p.pid, syscall.SIGTERM)
			p.waitFor("draining")
			_ = syscall.Kill(p.pid, syscall.SIGTERM)
			if code := p.exitCode(); code != 0 {
				t.Errorf("exit %d; terminal:\n%s", code, p.output())
			}
		})
	}
}

// childOf returns the child of graceful pid that is the job: not its
// guardian (started 200 ms into a run with a cgroup).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(s)
			if err != nil {
				continue
			}
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n)); bytes.Contains(cmdline, []byte(process.GuardArg)) {
				continue
			}
			return n
		}
	}
	t.Fatalf("no child of %d but its guardian", pid)
	return 0
}

// waitState waits until pid's state is want ('T' stopped; 'S' for "not
// stopped": sleeping or running).
func waitState(t *testing.T, pid int, want byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var got byte
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.LastIndexByte(b, ')')
		got = b[i+2]
		if got == want || (want == 'S' && got != 'T' && got != 't') {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d in state %c, want %c", pid, got, want)
}

// A --foreground job that cannot be executed has already been handed the
// terminal (the child does tcsetpgrp before execve fails): graceful takes
// it back, so its finalisation, and its own messages under `stty tostop`,
// are not in a background group.
func TestRunPtyForegroundRestoredAfterFailedStart(t *testing.T) {
	noexec := filepath.Join(t.TempDir(), "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := testPolicy("5s", "6s", `set -- $(sed 's/.*) //' /proc/$$/stat); echo "fg:$6:$(sed 's/.*) //' /proc/$PPID/stat | cut -d' ' -f3):end"`)
	p, _ := startPtyRunPolicy(t, policy, "--foreground", "--", noexec)
	p.waitFor(":end\r")
	if code := p.exitCode(); code != 126 {
		t.Errorf("exit %d, want 126; terminal:\n%s", code, p.output())
	}
	m := regexp.MustCompile(`fg:(\d+):(\d+):end`).FindStringSubmatch(p.output())
	if m == nil || m[1] != m[2] {
		t.Errorf("the terminal's foreground group is not graceful's (fg:TPGID:PGID %q); terminal:\n%s", m, p.output())
	}
}

// tickJob prints "ready", then "tick N" lines until it is killed, ignoring
// SIGTERM. With split, each line is written in two pieces, the text and,
// 30 ms later, the newline: the job is in the middle of a line most of
// the time, so graceful's lines come mostly while it is.
func tickJob(split bool) []string {
	line := `echo "tick $i"; sleep 0.02`
	if split {
		line = `printf 'tick %d' $i; sleep 0.03; echo`
	}
	return []string{"/bin/sh", "-c", `trap '' TERM; echo ready; i=0; while :; do i=$((i+1)); ` + line + `; done`}
}

// countdownWithJobLines starts tickJob under graceful on a terminal, types
// Ctrl-C twice (drain, cancel: SIGTERM, which the job ignores, then
// SIGKILL 1.5 s later) and returns what the terminal showed.
func countdownWithJobLines(t *testing.T, env []string, split bool) string {
	t.Helper()
	p, _ := startPtyRunEnv(t, env, testPolicy("1500ms", "5s", ""), append([]string{"--"}, tickJob(split)...)...)
	p.waitFor("ready")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to cancel")
	p.typeKeys("\x03")
	p.waitFor("Ctrl-C again to exit now")
	if code := p.exitCode(); code != 137 {
		t.Errorf("exit %d, want 137 (SIGKILL); terminal:\n%s", code, p.output())
	}
	return p.output()
}

// The job's lines printed during the Ctrl-C countdown reach the screen
// intact, and graceful's status never runs into them (issue 13). graceful
// cannot see the job's writes (the job inherits the terminal), so it must
// not leave a line of its own under the cursor for the job to write on.
// The bytes the terminal got are rendered in a small screen model.
func TestRunPtyJobLinesDuringCountdown(t *testing.T) {
	out := countdownWithJobLines(t, nil, true)
	sc := newScreen(120)
	sc.write(out)
	if len(sc.unknown) != 0 {
		t.Errorf("control sequences the screen model does not know: %q", sc.unknown)
	}
	rows := sc.text()
	checkJobLines(t, out, rows)
	// The test saw what it is about: job lines after the countdown began,
	// on a screen that shows the countdown.
	after := -1
	for i, r := range rows {
		if strings.Contains(r, "Ctrl-C again to exit now") {
			after = i
			break
		}
	}
	if after < 0 {
		t.Fatalf("the screen does not show the countdown:\n%s", strings.Join(rows, "\n"))
	}
	n := 0
	for _, r := range rows[after:] {
		if strings.HasPrefix(r, "tick ") {
			n++
		}
	}
	if n < 3 {
		t.Errorf("only %d job lines after the countdown began; screen:\n%s", n, strings.Join(rows, "\n"))
	}
}

// checkJobLines checks that every "tick N" the job wrote (as the bytes out
// show) is a row of the screen of its own, exactly once. The "^C" the
// terminal itself echoes for Ctrl-C, where the cursor is, is not
// graceful's and is taken out first.
func checkJobLines(t *testing.T, out string, rows []string) {
	t.Helper()
	rows = slices.Clone(rows)
	for i := range rows {
		rows[i] = strings.ReplaceAll(rows[i], "^C", "")
	}
	wrote := map[string]int{}
	for _, m := range regexp.MustCompile(`tick (\d+)`).FindAllStringSubmatch(out, -1) {
		wrote[m[1]]++
	}
	line := regexp.MustCompile(`^tick (\d+)$`)
	shown := map[string]int{}
	for _, r := range rows {
		if !strings.Contains(r, "tick") {
			continue
		}
		m := line.FindStringSubmatch(r)
		if m == nil {
			t.Errorf("a job line was run into or overwritten on screen: %q", r)
			continue
		}
		shown[m[1]]++
	}
	for n, c := range wrote {
		if c != 1 || shown[n] != 1 {
			t.Errorf("tick %s: written %d times, shown %d times on its own row", n, c, shown[n])
		}
	}
	if len(wrote) == 0 {
		t.Errorf("the job wrote no lines")
	}
	if t.Failed() {
		t.Logf("screen:\n%s\nbytes:\n%q", strings.Join(rows, "\n"), out)
	}
}

// With TERM=dumb graceful writes no control sequences at all: its status
// is plain lines (the terminal's own CR LF for a newline is all the CRs).
func TestRunPtyCountdownDumbTerminal(t *testing.T) {
	out := countdownWithJobLines(t, []string{"TERM=dumb"}, false)
	plain := strings.ReplaceAll(out, "\r\n", "\n")
	if strings.ContainsAny(plain, "\r\x1b") {
		t.Errorf("control sequences under TERM=dumb:\n%q", out)
	}
	rows := strings.Split(plain, "\n")
	checkJobLines(t, out, rows)
	found := false
	for _, r := range rows {
		if strings.HasPrefix(r, "graceful: ") && strings.HasSuffix(r, "Ctrl-C again to exit now") {
			found = true
		}
	}
	if !found {
		t.Errorf("no line of its own says what the next Ctrl-C does:\n%s", plain)
	}
}

// screen is a small model of a terminal width columns wide with endless
// rows: enough of a VT100 to render what graceful and the job write
// (text, CR, LF, BS, TAB, BEL, and CSI K, erase in line). Other control
// sequences are collected in unknown, so that one the model does not
// render cannot pass unnoticed.
type screen struct {
	width    int
	rows     [][]rune
	row, col int
	wrap     bool // the last column was written: the next character goes on the next row
	unknown  []string
}

func newScreen(width int) *screen { return &screen{width: width, rows: [][]rune{nil}} }

func (s *screen) line() []rune {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, nil)
	}
	for len(s.rows[s.row]) < s.width {
		s.rows[s.row] = append(s.rows[s.row], ' ')
	}
	return s.rows[s.row]
}

func (s *screen) write(out string) {
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; {
		case c == '\r':
			s.col, s.wrap = 0, false
		case c == '\n':
			s.row, s.wrap = s.row+1, false
			s.line()
		case c == '\b':
			s.col, s.wrap = max(s.col-1, 0), false
		case c == '\t':
			s.col = min((s.col/8+1)*8, s.width-1)
		case c == '\a':
		case c == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j == len(rs) {
				s.unknown = append(s.unknown, string(rs[i:]))
				return
			}
			seq, params := rs[j], string(rs[i+2:j])
			i = j
			if seq != 'K' {
				s.unknown = append(s.unknown, "\x1b["+params+string(seq))
				continue
			}
			l := s.line()
			from, to := s.col, s.width
			switch params {
			case "", "0":
			case "1":
				from, to = 0, s.col+1
			case "2":
				from = 0
			default:
				s.unknown = append(s.unknown, "\x1b["+params+"K")
				continue
			}
			for k := from; k < to; k++ {
				l[k] = ' '
			}
		case c < 0x20 || c == 0x7f:
			s.unknown = append(s.unknown, string(c))
		default:
			if s.wrap {
				s.row, s.col, s.wrap = s.row+1, 0, false
			}
			s.line()[s.col] = c
			if s.col == s.width-1 {
				s.wrap = true
			} else {
				s.col++
			}
		}
	}
}

// text returns the rows, without trailing blanks.
func (s *screen) text() []string {
	var rows []string
	for _, r := range s.rows {
		rows = append(rows, strings.TrimRight(string(r), " "))
	}
	return rows
}

// TERM=dumb, or no TERM, gets no width, and so no control characters.
func TestTerminalColumns(t *testing.T) {
	for term, want := range map[string]bool{"": false, "dumb": false, "xterm-256color": true, "linux": true} {
		got := terminalColumns(func(string) string { return term }, os.Stderr) != nil
		if got != want {
			t.Errorf("TERM=%q: width given %v, want %v", term, got, want)
		}
	}
}
