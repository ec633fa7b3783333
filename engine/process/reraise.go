//go:build linux

package process

import (
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reraise makes this process die of sig, as the job did, so that a parent
// shell sees a death by signal rather than 128+N (coreutils timeout does
// the same). Core dumps are turned off first. The disposition is set back
// to the kernel's default with a raw rt_sigaction, bypassing the Go
// runtime, whose own handler would print a goroutine dump for SIGQUIT.
// Reraise returns only when sig did not end the process (a signal whose
// default action is to ignore or stop, or SIGKILL-proof conditions).
func Reraise(sig syscall.Signal) {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	signal.Reset(sig)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// struct kernel_sigaction, all zero: SIG_DFL, no flags, empty mask,
	// whatever the architecture's field layout.
	// SIGKILL and SIGSTOP refuse it, and need it not.
	var act [4]uint64
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	var set unix.Sigset_t
	set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	_ = unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	// The signal is delivered on return from tgkill; give it a moment in
	// case it was queued behind another.
	for i := 0; i < 100; i++ {
		runtime.Gosched()
	}
}
