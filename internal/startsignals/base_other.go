//go:build !linux

package startsignals

import "syscall"

// base is empty where graceful supervises no job: nothing is begun.
var base []syscall.Signal
