//go:build linux

// Package resident keeps a long-lived supervisor's resident set to what it
// goes on using.
package resident

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Trim lowers this process's resident set to what it goes on using.
//
// graceful run, join and the coordinator live as long as the job and then
// mostly wait.
// Their start-up (package initialisation of a binary that also holds the
// policy language and manifest decoding) maps in most of the executable's
// text and read-only data, helped by the kernel's fault-around, and those
// pages would count in the resident set (and the OOM killer's view of the
// process) for the whole run. The executable's read-only mappings are clean
// copies of the file: MADV_DONTNEED drops them from our page tables (the
// page cache keeps them, so touching one again is a minor fault). Writable
// mappings are never touched. Errors are ignored: this is an optimisation.
//
// MADV_RANDOM only turns off read-ahead from the file; it does not stop
// fault-around (measured on Linux 6.18: one page touched after the trim
// maps the 16 pages of its aligned 64 KiB back in). So what a process
// keeps touching after Trim costs 64 KiB per distinct window of the
// executable it touches: a waiting process must keep its periodic work off
// code and data spread across the binary (encoding/json and reflect are;
// see the liveness frames of the kubernetes runner's wire package).
//
// A process being traced (a debugger attached: TracerPid in
// /proc/self/status) keeps its pages: a breakpoint is a write into a
// private copy of a text page, and MADV_DONTNEED would drop the copy, and
// the breakpoint with it, without a word. (Kernel uprobes, `perf probe`,
// live in such copies too and are lost the same way; nothing here can
// see them.)
func Trim() {
	if traced() {
		return
	}
	exe, err := os.Executable()
	if err != nil || !trimmable(exe) {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-00a27000 r-xp 00000000 fd:01 1234 /path/to/graceful
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe {
			continue
		}
		if perm := fields[1]; perm != "r-xp" && perm != "r--p" {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		madvise(uintptr(start), uintptr(end-start), syscall.MADV_RANDOM)
		madvise(uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}

// traced reports whether a tracer (a debugger) is attached to this
// process; false when /proc says nothing.
func traced() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	return tracerPid(string(b)) != 0
}

// tracerPid is the TracerPid field of a /proc/PID/status text, 0 when
// there is none.
func tracerPid(status string) int {
	n, _ := strconv.Atoi(statusField(status, "TracerPid"))
	return n
}

// statusField is the first word of field key in a /proc/PID/status text
// ("TracerPid:\t0" gives "0", "RssFile:\t1308 kB" gives "1308"), empty
// when there is none.
func statusField(status, key string) string {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0]
			}
			return ""
		}
	}
	return ""
}

// trimmable reports whether exe's read-only mappings are exact copies of the
// file: a fixed-address executable (ET_EXEC) without a RELRO segment. In a
// position-independent executable the dynamic loader writes relocations
// into pages it then makes read-only (RELRO); dropping those would revert
// them to the file's contents, so such binaries are left alone.
//
// Only the ELF header and the program headers are read, by hand: debug/elf
// would link debug/dwarf, compress/zlib and internal/zstd into every
// program that uses this package, for two fields.
func trimmable(exe string) bool {
	f, err := os.Open(exe)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [64]byte // Elf64_Ehdr
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return false
	}
	// ELF, 64-bit (the only class Trim is used with), either byte order.
	if string(hdr[:4]) != "\x7fELF" || hdr[4] != 2 {
		return false
	}
	var bo binary.ByteOrder
	switch hdr[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return false
	}
	const etExec, ptGNURelro, phentsize = 2, 0x6474e552, 56 // Elf64_Phdr
	if bo.Uint16(hdr[16:]) != etExec {
		return false
	}
	phoff := bo.Uint64(hdr[32:])
	if bo.Uint16(hdr[54:]) != phentsize {
		return false
	}
	phnum := int(bo.Uint16(hdr[56:]))
	if phnum == 0 || phnum > 256 {
		return false
	}
	ph := make([]byte, phnum*phentsize)
	if _, err := f.ReadAt(ph, int64(phoff)); err != nil {
		return false
	}
	for i := 0; i < phnum; i++ {
		if bo.Uint32(ph[i*phentsize:]) == ptGNURelro {
			return false
		}
	}
	return true
}

func madvise(addr, length uintptr, advice int) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, length, uintptr(advice))
}
