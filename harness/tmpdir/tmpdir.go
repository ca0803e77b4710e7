// Package tmpdir makes gpiohil's temporary folders and sweeps away those whose owner is gone.
//
// A VM run writes its initramfs (2.3 MB) and its channel socket to a temporary folder and
// removes the folder when the run ends, on every path it controls. A gpiohil killed with
// SIGKILL (or by the OOM killer, or a CI job's timeout) controls nothing: its folder stays.
// So every folder records its owner in its name,
//
//	<prefix><pid>-<start>-<random>     e.g. gpiohil-vm-4242-1234567-2875521341
//
// where start is the owner's start time (field 22 of /proc/<pid>/stat, in clock ticks since
// boot), and [Sweep], which every VM run calls first, removes the folders whose owner process
// no longer exists: no /proc/<pid>, or a /proc/<pid> that started at another time (the pid was
// reused by another program). A folder is only swept when it is older than [MinAge], owned by
// this user, a real directory (not a symlink), and named exactly as Make names them; anything
// else in the temporary directory, such as folders older gpiohil builds named
// gpiohil-vm-<random>, is never touched.
//
// Limit: a process in another PID namespace (a container) that shares this temporary
// directory does not appear in this process's /proc, so its folders look abandoned once they
// are older than MinAge. Give such containers their own TMPDIR.
//
//	dir, err := tmpdir.Make(tmpdir.VM)
//	if err != nil { ... }
//	defer os.RemoveAll(dir)
package tmpdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Prefixes of gpiohil's temporary folders, one per owner.
const (
	VM       = "gpiohil-vm-"       // one run of the gpio-sim VM (package vm): initramfs, channel socket
	RPi3     = "gpiohil-rpi3-"     // one run of the emulated Raspberry Pi 3 (package rpi3)
	Bin      = "gpiohil-bin-"      // gpiohil built for a test's guest (package vmtest)
	RPi3Test = "gpiohil-rpi3test-" // a test package built for the emulated Pi (package rpi3test)
	PiLane   = "gpiohil-pi3-"      // the emulated-Pi lane's outbox (gpiohil run)
)

// Prefixes returns every prefix gpiohil uses: what a VM run sweeps.
func Prefixes() []string { return []string{VM, RPi3, Bin, RPi3Test, PiLane} }

// MinAge is how old a folder must be before Sweep removes it, even when its owner is gone.
// Sweeping is for folders left behind long ago; the margin keeps a folder whose owner has only
// just ended while what the owner started may still be using it (QEMU is killed with its
// gpiohil, Pdeathsig, but takes a moment to go), and costs nothing: a stale folder only
// takes disk space until the next run.
const MinAge = time.Minute

// Make creates a new folder under os.TempDir() named after prefix and this process (see the
// package comment) and returns its path. The caller removes it.
//
// When this process's start time cannot be read (no /proc), the folder is named
// <prefix><random> instead: it is made all the same, and no Sweep will ever remove it.
func Make(prefix string) (string, error) {
	if prefix == "" || strings.ContainsRune(prefix, os.PathSeparator) {
		return "", fmt.Errorf("tmpdir: prefix %q must be a non-empty file name, e.g. %q", prefix, VM)
	}
	pattern := prefix
	if start, err := selfStart(); err == nil {
		pattern = fmt.Sprintf("%s%d-%d-", prefix, os.Getpid(), start)
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("tmpdir: make a temporary folder %s*: %w", pattern, err)
	}
	return dir, nil
}

// Sweep removes the folders under os.TempDir() with one of the prefixes whose owner process
// is gone and that are older than MinAge, and returns their paths. It reads the temporary
// directory once and /proc/<pid>/stat once for each folder of a matching name. Errors are not
// reported: a folder that cannot be examined or removed stays, and the next Sweep tries again.
// When this process's own /proc entry cannot be read, Sweep cannot tell a live owner from a
// dead one and removes nothing.
func Sweep(prefixes ...string) (removed []string) {
	if _, err := selfStart(); err != nil {
		return nil
	}
	dir := os.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	now := time.Now()
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if stale(e, prefixes, now) && os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// stale says whether e is a folder Sweep may remove: named by Make with one of the prefixes,
// a directory of this user's, older than MinAge, its owner gone.
func stale(e fs.DirEntry, prefixes []string, now time.Time) bool {
	if !e.IsDir() { // a symlink is not: never followed
		return false
	}
	pid, start, ok := Owner(e.Name(), prefixes...)
	if !ok {
		return false
	}
	info, err := e.Info()
	if err != nil || now.Sub(info.ModTime()) < MinAge {
		return false
	}
	if st, ok := info.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return false
	}
	return ownerGone(pid, start)
}

// Owner parses a folder name Make gave: the owner's pid and start time. ok is false for any
// name that is not exactly <prefix><pid>-<start>-<random> with one of the prefixes and three
// decimal numbers.
func Owner(name string, prefixes ...string) (pid int, start uint64, ok bool) {
	for _, p := range prefixes {
		rest, found := strings.CutPrefix(name, p)
		if !found {
			continue
		}
		f := strings.Split(rest, "-")
		if len(f) != 3 || !digits(f[0]) || !digits(f[1]) || !digits(f[2]) {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		start, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 == nil && err2 == nil && pid > 0 {
			return pid, start, true
		}
	}
	return 0, 0, false
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ownerGone says whether the process that made a folder has ended: no /proc/<pid>, or a
// process there that started at another time. When /proc/<pid> cannot be read for another
// reason, the owner is taken to be alive.
func ownerGone(pid int, start uint64) bool {
	got, err := startTime(pid)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return true
	}
	return err == nil && got != start
}

var selfStart = sync.OnceValues(func() (uint64, error) { return startTime(os.Getpid()) })

// startTime returns when process pid started, in clock ticks since boot: field 22 of
// /proc/<pid>/stat. Together with the pid it names one process for the life of the machine.
func startTime(pid int) (uint64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The second field, the command name in parentheses, may itself hold spaces and
	// parentheses: the fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("tmpdir: %s: no command name in %q", path, b)
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // f[0] is field 3, the state
	if len(f) <= startField {
		return 0, fmt.Errorf("tmpdir: %s has %d fields, want at least 22", path, len(f)+2)
	}
	start, err := strconv.ParseUint(f[startField], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("tmpdir: %s: start time: %w", path, err)
	}
	return start, nil
}
