package safety

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultLockDir is where board locks live: a tmpfs on Raspberry Pi OS and Debian, writable by
// every user (mode 1777), emptied at boot.
const DefaultLockDir = "/run/lock"

// Lock is an exclusive lock on one board's GPIO chip, held until Unlock or the process ends
// (the kernel drops a flock with its last file descriptor, so a killed run never leaves a
// stale lock behind).
type Lock struct {
	Path string
	f    *os.File
}

// LockedError reports that another process holds the board lock.
type LockedError struct {
	Path string
	PID  int    // 0 when the lock file does not say
	Comm string // the holder's command name, when /proc says
}

func (e *LockedError) Error() string {
	who := "another process"
	switch {
	case e.PID > 0 && e.Comm != "":
		who = fmt.Sprintf("PID %d (%s)", e.PID, e.Comm)
	case e.PID > 0:
		who = fmt.Sprintf("PID %d", e.PID)
	}
	return fmt.Sprintf("board lock %s is held by %s: one gpiohil run per board at a time; wait for it to finish or end it", e.Path, who)
}

// LockPath is the lock file of the chip with label in dir.
func LockPath(dir, label string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, label)
	return filepath.Join(dir, "gpiohil-"+safe+".lock")
}

// LockBoard takes the lock of the chip labelled label, without waiting: if another process
// holds it, the error is a *LockedError naming that process. dir "" means DefaultLockDir,
// which is created (mode 1777) if missing.
func LockBoard(dir, label string) (*Lock, error) {
	if dir == "" {
		dir = DefaultLockDir
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o755); err == nil {
				os.Chmod(dir, 0o1777)
			}
		}
	}
	path := LockPath(dir, label)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("board lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			le := &LockedError{Path: path}
			if b, rerr := os.ReadFile(path); rerr == nil {
				le.PID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
			if le.PID > 0 {
				if c, cerr := os.ReadFile(fmt.Sprintf("/proc/%d/comm", le.PID)); cerr == nil {
					le.Comm = strings.TrimSpace(string(c))
				}
			}
			return nil, le
		}
		return nil, fmt.Errorf("board lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{Path: path, f: f}, nil
}

// Unlock releases the lock. The file stays, empty, for the next run.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
