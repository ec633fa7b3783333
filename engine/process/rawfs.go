//go:build linux

package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// The runner reads small files of /proc and of the cgroup filesystem on
// every start and close. os.Open would also try to register each of them
// with the runtime's poller (fcntl, epoll_ctl, fcntl again), which these
// files do not need: they are read with plain system calls here.
// Directories need no such care: os.ReadDir opens them without the poller.

// readFile returns the contents of a small pseudo-file (or any file).
func readFile(path string) ([]byte, error) {
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// writeFile writes data to an existing file (a cgroup control file).
func writeFile(path string, data []byte) error {
	fd, err := openRetry(path, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		_, err = unix.Write(fd, data)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readDirNames lists the names in a directory (without . and ..).
// os.ReadDir already opens directories without the poller.
func readDirNames(path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}
