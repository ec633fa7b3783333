package policies

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxFileSize is the largest policy file graceful reads, in bytes. A policy
// is a page of settings; the cap keeps a mistaken path (a log, an image,
// /dev/zero) from filling memory.
const MaxFileSize = 1 << 20

// ReadFile reads a policy file as Load does: it must be a regular file
// (symbolic links are followed) of at most MaxFileSize bytes. A named pipe,
// device or socket is refused without blocking on it. The error's text is
// one sentence naming the file and the fix.
func ReadFile(name string) ([]byte, error) {
	src, d := readPolicyFile(name)
	if d != nil {
		return nil, errors.New(d.Detail)
	}
	return src, nil
}

// readPolicyFile is ReadFile with its refusal as a diagnostic.
func readPolicyFile(name string) ([]byte, *hcl.Diagnostic) {
	// Non-blocking, so that opening a FIFO nobody writes to returns at
	// once instead of hanging before the type can be checked; the flag
	// changes nothing for the regular files that are then read.
	f, err := os.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error() + "."}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error() + "."}
	}
	if !fi.Mode().IsRegular() {
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Not a regular file",
			Detail:   fmt.Sprintf("%s is %s, not a regular file; graceful reads policies only from regular files, since a pipe or device may block or never end. Name the policy file itself.", name, fileKind(fi.Mode())),
		}
	}
	if fi.Size() > MaxFileSize {
		return nil, tooLarge(name, fi.Size())
	}
	// The file may grow between Stat and the read: read one byte past
	// the cap to notice.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error() + "."}
	}
	if len(src) > MaxFileSize {
		return nil, tooLarge(name, int64(len(src)))
	}
	return src, nil
}

func tooLarge(name string, size int64) *hcl.Diagnostic {
	what := fmt.Sprintf("%d bytes", size)
	if size > MaxFileSize {
		what = "more than 1 MiB"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Policy file too large",
		Detail:   fmt.Sprintf("%s holds %s; a policy file may hold at most 1 MiB (%d bytes). Check that the path names the policy; split a large one into several files.", name, what, MaxFileSize),
	}
}

// fileKind names the type of a file that is not regular, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	default:
		return "a special file"
	}
}

// checkText refuses what cannot be a policy before it is parsed: a source
// over MaxFileSize, or binary data (a NUL byte or bytes that are not
// UTF-8). Parsing binary data yields an error for nearly every byte, each
// echoing its line; one diagnostic says it all.
func checkText(name string, src []byte) *hcl.Diagnostic {
	if len(src) > MaxFileSize {
		return tooLarge(name, int64(len(src)))
	}
	at, what := -1, ""
	for i := 0; i < len(src); {
		if src[i] == 0 {
			at, what = i, "a NUL byte"
			break
		}
		if src[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			at, what = i, "a byte that is not UTF-8"
			break
		}
		i += n
	}
	if at < 0 {
		return nil
	}
	p := posOf(src, at)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Binary file",
		Detail:   fmt.Sprintf("%s holds %s at line %d, column %d, so it is not a policy: policies are UTF-8 text. Check that the path names the policy, not a compiled, compressed or other binary file.", name, what, p.Line, p.Column),
		Subject:  &hcl.Range{Filename: name, Start: p, End: hcl.Pos{Line: p.Line, Column: p.Column + 1, Byte: p.Byte + 1}},
	}
}

// posOf returns the position of byte offset off in src (columns count
// bytes, which is exact up to the first non-ASCII character of a line).
func posOf(src []byte, off int) hcl.Pos {
	p := hcl.InitialPos
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	p.Byte = off
	return p
}
