//go:build linux

package kubernetes

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graceful-sh/graceful/engine/kubernetes/internal/wire"
)

// MaxSocketPath is the longest socket path the kernel accepts: sun_path is
// 108 bytes on Linux, one of them the terminating NUL.
const MaxSocketPath = 107

// ErrCoordinatorRunning is returned by Listen when another coordinator is
// already serving the socket.
var ErrCoordinatorRunning = errors.New("another coordinator is serving this socket")

func checkSocketPath(path string) error {
	if path == "" {
		return errors.New("no socket path given (--socket)")
	}
	if len(path) > MaxSocketPath {
		return fmt.Errorf("socket path %q is %d bytes long; the kernel allows at most %d (sun_path is 108 bytes): mount the shared volume at a shorter path",
			path, len(path), MaxSocketPath)
	}
	return nil
}

// listenSocket creates the coordinator's socket at path, mode 0600; peers
// (--peer-uid) other than our uid are let in by peerAccess. It returns a
// note for the log when the access given is wider than asked.
//
// A socket file left by an earlier coordinator (a restarted container keeps
// its emptyDir) is replaced; a live one, found by dialling it or by its lock
// file, is refused. A non-socket file at path is never touched.
//
// The socket is bound inside a fresh 0700 directory next to path, chmod-ed
// to 0600 and renamed into place, so there is no moment at which it is
// reachable with wider permissions and no process-wide umask change.
func listenSocket(path string, peers []int) (*net.UnixListener, *os.File, string, error) {
	if err := checkSocketPath(path); err != nil {
		return nil, nil, "", err
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, nil, "", err
	}
	fail := func(err error) (*net.UnixListener, *os.File, string, error) {
		lock.Close()
		return nil, nil, "", err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fail(fmt.Errorf("%s exists and is not a socket; refusing to replace it", path))
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return fail(fmt.Errorf("%s: %w", path, ErrCoordinatorRunning))
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fail(fmt.Errorf("probing existing socket %s: %w", path, err))
		}
		// Stale: replaced by the rename below.
	}
	// A marker of an earlier coordinator's end is no longer true.
	if err := os.Remove(path + DoneSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("removing %s: %w", path+DoneSuffix, err))
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".graceful")
	if err != nil {
		return fail(fmt.Errorf("creating socket: %w", err))
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	l, err := bindIn(dir, tmp)
	if err != nil {
		return fail(fmt.Errorf("creating socket: %w", err))
	}
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		return fail(fmt.Errorf("creating socket: %w", err))
	}
	note, err := peerAccess(tmp, peers)
	if err != nil {
		l.Close()
		return fail(fmt.Errorf("creating socket: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		return fail(fmt.Errorf("creating socket: %w", err))
	}
	return l, lock, note, nil
}

// peerAccess lets the uids of --peer-uid other than ours connect to the
// socket tmp (connect needs write permission on the socket file): by a
// POSIX ACL granting each of them read and write, and nobody else. A
// negative uid (any uid) makes the socket 0666. So does a file system
// without ACLs, with a note for the log: the peer credentials checked at
// every connection (SO_PEERCRED) remain the gate.
func peerAccess(tmp string, peers []int) (string, error) {
	var uids []uint32
	for _, u := range peers {
		switch {
		case u < 0:
			return "", os.Chmod(tmp, 0o666)
		case u != os.Getuid() && !slices.Contains(uids, uint32(u)):
			uids = append(uids, uint32(u))
		}
	}
	if len(uids) == 0 {
		return "", nil
	}
	slices.Sort(uids)
	err := unix.Setxattr(tmp, "system.posix_acl_access", accessACL(uids), 0)
	if errors.Is(err, unix.EOPNOTSUPP) {
		return "the socket's file system has no ACLs: socket made 0666, peers are checked by uid at connect (--peer-uid)", os.Chmod(tmp, 0o666)
	}
	if err != nil {
		return "", fmt.Errorf("ACL for --peer-uid: %w", err)
	}
	return "", nil
}

// accessACL encodes an access ACL as the kernel's posix_acl_access
// extended attribute holds it (little-endian: a version, then entries of
// tag, permissions and id, in tag order): read and write for the owner and
// for each of uids (sorted), nothing for the group and others.
func accessACL(uids []uint32) []byte {
	const (
		version   = 2
		userObj   = 0x01
		user      = 0x02
		groupObj  = 0x04
		mask      = 0x10
		other     = 0x20
		rw        = 6
		undefined = 0xffffffff
	)
	b := binary.LittleEndian.AppendUint32(nil, version)
	entry := func(tag, perm uint16, id uint32) {
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	entry(userObj, rw, undefined)
	for _, u := range uids {
		entry(user, rw, u)
	}
	entry(groupObj, 0, undefined)
	entry(mask, rw, undefined)
	entry(other, 0, undefined)
	return b
}

// bindIn listens on tmp, the name "s" in the fresh directory dir. The
// temporary directory's name is longer than a short socket name, so a path
// within the documented limit can make tmp exceed sun_path: then the
// directory is reached through /proc/self/fd instead of its own name.
func bindIn(dir, tmp string) (*net.UnixListener, error) {
	if len(tmp) <= MaxSocketPath {
		return net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return net.ListenUnix("unix", &net.UnixAddr{Name: fmt.Sprintf("/proc/self/fd/%d/s", fd), Net: "unix"})
}

// lockFile takes an exclusive flock on name for the coordinator's lifetime;
// it closes the race between two coordinators starting at once.
func lockFile(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("socket lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked: %w", name, ErrCoordinatorRunning)
		}
		return nil, fmt.Errorf("socket lock: %w", err)
	}
	return f, nil
}

// peerCred returns the credentials the kernel recorded for the other end of
// c when it connected (SO_PEERCRED); they cannot be forged by the peer.
func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, cerr
}

// uidAllowed reports whether uid may talk to us: our own uid, or one of
// extra. A negative entry in extra allows any uid.
func uidAllowed(uid uint32, extra []int) bool {
	if int(uid) == os.Getuid() {
		return true
	}
	for _, u := range extra {
		if u < 0 || uint32(u) == uid {
			return true
		}
	}
	return false
}

// EnsureToken returns the token stored in file, creating the file (mode
// 0600, written atomically) with a fresh random token if it does not exist.
func EnsureToken(file string) (string, error) {
	if tok, err := ReadToken(file); err == nil {
		return tok, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b[:])
	f, err := os.CreateTemp(filepath.Dir(file), ".token")
	if err != nil {
		return "", fmt.Errorf("writing token: %w", err)
	}
	defer os.Remove(f.Name())
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(tok + "\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, not rename: if another process created the file
		// meanwhile, keep theirs.
		err = os.Link(f.Name(), file)
		if errors.Is(err, os.ErrExist) {
			return ReadToken(file)
		}
	}
	if err != nil {
		return "", fmt.Errorf("writing token: %w", err)
	}
	return tok, nil
}

// ReadToken reads a token file (surrounding white space is ignored).
//
// The file is on a volume other containers can write, so it must be a
// regular file itself (not a symlink, a FIFO or a device), owned by our
// uid, not readable or writable by group or others, and at most
// wire.MaxToken bytes long. It is opened without blocking (a FIFO planted
// at the path would otherwise hang open until a writer comes) and without
// following a symlink, and checked on the opened file, so nothing can be
// swapped in between the check and the read.
func ReadToken(file string) (string, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return "", fmt.Errorf("token file %s is a symlink; refusing to follow it: give the token by %s, or mount the Secret's key with subPath", file, TokenEnv)
		}
		return "", &os.PathError{Op: "open", Path: file, Err: err}
	}
	f := os.NewFile(uintptr(fd), file)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: file, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("token file %s is not a regular file (%s); refusing it", file, fileKind(st.Mode))
	}
	if int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("token file %s is owned by uid %d, not by us (uid %d); refusing a token another user could have planted", file, st.Uid, os.Getuid())
	}
	if perm := os.FileMode(st.Mode).Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s has mode %v; it must be 0600 or stricter", file, perm)
	}
	if st.Size > wire.MaxToken {
		return "", fmt.Errorf("token file %s is %d bytes long; the limit is %d", file, st.Size, wire.MaxToken)
	}
	b := make([]byte, wire.MaxToken+1)
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("reading token file %s: %w", file, err)
	}
	tok := strings.TrimSpace(string(b[:n]))
	if tok == "" || n > wire.MaxToken {
		return "", fmt.Errorf("token file %s is empty or longer than %d bytes", file, wire.MaxToken)
	}
	return tok, nil
}

// fileKind names the type bits of a stat mode, for error messages.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFLNK:
		return "a symlink"
	}
	return fmt.Sprintf("type %#o", mode&unix.S_IFMT)
}

// writeDoneMarker creates name through a temporary file renamed into place:
// the shared volume is writable by the job containers, and a symlink left
// at name must be replaced, not followed (the coordinator may run as root,
// and os.WriteFile would truncate whatever the link points to).
func writeDoneMarker(name string) {
	f, err := os.CreateTemp(filepath.Dir(name), ".done")
	if err != nil {
		return
	}
	_, err = f.WriteString("finished\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
