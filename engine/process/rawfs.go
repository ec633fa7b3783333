package process

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runner reads small files of /proc and of the cgroup filesystem on
// every start and close. os.Open would also try to register each of them
// with the runtime's poller (fcntl, epoll_ctl, fcntl again), which these
// files do not need: they are read with plain system calls here.

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

// dirEntry is one entry of readDir.
type dirEntry struct {
	name string
	typ  uint8 // d_type
}

func (e dirEntry) isDir() bool { return e.typ == unix.DT_DIR }

// readDir lists a directory (without . and ..).
func readDir(path string) ([]dirEntry, error) {
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var out []dirEntry
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return out, &os.PathError{Op: "readdirent", Path: path, Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		from := len(out)
		out = parseDirents(buf[:n], out)
		for i := from; i < len(out); i++ {
			if out[i].typ == unix.DT_UNKNOWN { // a file system without d_type
				var st unix.Stat_t
				if unix.Lstat(path+"/"+out[i].name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
					out[i].typ = unix.DT_DIR
				}
			}
		}
	}
}

// parseDirents appends the entries of a getdents64 buffer:
// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type;
// char d_name[]; }.
func parseDirents(b []byte, out []dirEntry) []dirEntry {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
		if reclen < nameOff || reclen > len(b) {
			break
		}
		typ := b[18]
		name := b[nameOff:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if s := string(name); s != "." && s != ".." && s != "" {
			out = append(out, dirEntry{name: s, typ: typ})
		}
		b = b[reclen:]
	}
	return out
}

// readDirNames lists the names in a directory (without . and ..).
func readDirNames(path string) ([]string, error) {
	ents, err := readDir(path)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.name)
	}
	return names, err
}
