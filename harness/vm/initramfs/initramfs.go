// Package initramfs writes the small initial RAM file system that gpiohil boots its VMs with.
//
// The archive is in the kernel's "newc" cpio format and holds only what the kernel needs before
// the guest agent takes over: the directories the agent mounts on, /dev/console (the kernel opens it for
// the first process before devtmpfs is mounted) and the agent binary as /init. It is not
// compressed: the kernel unpacks an uncompressed archive faster than it inflates one, and the
// file lives only for one boot.
//
// The writer is our own, about forty lines: the cpio libraries that fit (github.com/cavaliergopher/cpio)
// cannot write device numbers, which /dev/console needs. The tests read archives back with that
// library, so the format is checked by code we did not write.
package initramfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Entry is one file system object in the archive.
type Entry struct {
	Path string // absolute path inside the guest, e.g. "/dev/console"
	Mode os.FileMode
	// Exactly one of the following describes the content.
	Source string // regular file: copied from this host file
	Data   []byte // regular file: these bytes
	Major  uint32 // character device numbers (Mode has os.ModeCharDevice)
	Minor  uint32
	Target string // symbolic link target (Mode has os.ModeSymlink)
}

// Dir returns a directory entry.
func Dir(p string) Entry { return Entry{Path: p, Mode: os.ModeDir | 0o755} }

// CharDev returns a character device entry.
func CharDev(p string, major, minor uint32) Entry {
	return Entry{Path: p, Mode: os.ModeDevice | os.ModeCharDevice | 0o600, Major: major, Minor: minor}
}

// File returns a regular file entry copied from a host file.
func File(p, source string, perm os.FileMode) Entry {
	return Entry{Path: p, Mode: perm, Source: source}
}

// Agent returns the entries of gpiohil's standard guest: mount points, /dev/console and init,
// copied from the host file initPath, as /init.
func Agent(initPath string) []Entry {
	return []Entry{
		Dir("/dev"), Dir("/proc"), Dir("/sys"), Dir("/tmp"), Dir("/newroot"),
		CharDev("/dev/console", 5, 1),
		File("/init", initPath, 0o755),
	}
}

// Write writes entries to w as a newc cpio archive. Parent directories are added when missing,
// and entries are written parents first, so the kernel can unpack the archive in one pass.
func Write(w io.Writer, entries []Entry) error {
	all, err := withParents(entries)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, e := range all {
		if err := writeEntry(bw, uint32(i+1), e); err != nil {
			return fmt.Errorf("initramfs: %s: %w", e.Path, err)
		}
	}
	if err := writeRecord(bw, header{name: trailer, nlink: 1}, nil); err != nil {
		return fmt.Errorf("initramfs: finish archive: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("initramfs: finish archive: %w", err)
	}
	return nil
}

// WriteFile writes entries as an archive to the named file.
func WriteFile(name string, entries []Entry) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if err := Write(f, entries); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func withParents(entries []Entry) ([]Entry, error) {
	seen := map[string]bool{}
	var all []Entry
	for _, e := range entries {
		if !path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || e.Path == "/" {
			return nil, fmt.Errorf("initramfs: entry path %q must be absolute and clean, and not /", e.Path)
		}
		if seen[e.Path] {
			return nil, fmt.Errorf("initramfs: entry %s given twice", e.Path)
		}
		seen[e.Path] = true
		all = append(all, e)
	}
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "/"; d = path.Dir(d) {
			if !seen[d] {
				seen[d] = true
				all = append(all, Dir(d))
			}
		}
	}
	for _, e := range all {
		if d := path.Dir(e.Path); d != "/" {
			for _, p := range all {
				if p.Path == d && !p.Mode.IsDir() {
					return nil, fmt.Errorf("initramfs: %s needs %s to be a directory", e.Path, d)
				}
			}
		}
	}
	// Parents sort before their children because a path is a prefix of its children's.
	sort.SliceStable(all, func(i, j int) bool { return depth(all[i].Path) < depth(all[j].Path) })
	return all, nil
}

func depth(p string) int { return strings.Count(p, "/") }

const (
	trailer = "TRAILER!!!"
	// File type bits of the cpio mode field (as in struct stat).
	typeDir  = 0o040000
	typeReg  = 0o100000
	typeLink = 0o120000
	typeChr  = 0o020000
)

type header struct {
	name               string
	ino, mode, nlink   uint32
	size               int64
	rdevMajor, rdevMin uint32
}

func writeEntry(w *bufio.Writer, ino uint32, e Entry) error {
	h := header{name: strings.TrimPrefix(e.Path, "/"), ino: ino, mode: uint32(e.Mode.Perm()), nlink: 1}
	switch {
	case e.Mode.IsDir():
		h.mode |= typeDir
		h.nlink = 2
		return writeRecord(w, h, nil)
	case e.Mode&os.ModeCharDevice != 0:
		h.mode |= typeChr
		h.rdevMajor, h.rdevMin = e.Major, e.Minor
		return writeRecord(w, h, nil)
	case e.Mode&os.ModeSymlink != 0:
		h.mode |= typeLink
		h.size = int64(len(e.Target))
		return writeRecord(w, h, strings.NewReader(e.Target))
	case e.Mode.IsRegular():
		h.mode |= typeReg
		if e.Source == "" {
			h.size = int64(len(e.Data))
			return writeRecord(w, h, bytes.NewReader(e.Data))
		}
		f, err := os.Open(e.Source)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("source %s is not a regular file", e.Source)
		}
		h.size = st.Size()
		return writeRecord(w, h, f)
	}
	return fmt.Errorf("unsupported file mode %v", e.Mode)
}

// writeRecord writes one newc header, the name and the data, each padded to four bytes.
func writeRecord(w *bufio.Writer, h header, data io.Reader) error {
	if h.size > 0xffffffff {
		return fmt.Errorf("%d bytes is too large for a cpio archive", h.size)
	}
	_, err := fmt.Fprintf(w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\x00",
		h.ino, h.mode, 0, 0, h.nlink, 0, uint32(h.size), 0, 0, h.rdevMajor, h.rdevMin, len(h.name)+1, 0, h.name)
	if err != nil {
		return err
	}
	pad(w, 110+len(h.name)+1)
	if data != nil {
		n, err := io.Copy(w, data)
		if err != nil {
			return err
		}
		if n != h.size {
			return fmt.Errorf("source changed while being copied (%d of %d bytes)", n, h.size)
		}
		pad(w, int(n))
	}
	return nil
}

func pad(w *bufio.Writer, n int) {
	for ; n%4 != 0; n++ {
		w.WriteByte(0)
	}
}
