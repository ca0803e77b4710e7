package tmpdir

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// deadPid returns the pid of a process that has ended and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	for range 10 {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatalf("run true: %v", err)
		}
		pid := cmd.ProcessState.Pid()
		if _, err := os.Stat(fmt.Sprint("/proc/", pid)); os.IsNotExist(err) {
			return pid
		}
	}
	t.Fatal("every pid of an ended process was already reused")
	return 0
}

// folder makes dir/name, a directory holding one file, last modified age ago.
func folder(t *testing.T, dir, name string, age time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "initramfs.cpio"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	backdate(t, p, age)
	return p
}

func backdate(t *testing.T, p string, age time.Duration) {
	t.Helper()
	old := time.Now().Add(-age)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestMakeNamesItsOwner(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir, err := Make(VM)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != tmp {
		t.Errorf("Make made %s, want it under $TMPDIR %s", dir, tmp)
	}
	self, _ := startTime(os.Getpid())
	pid, start, ok := Owner(filepath.Base(dir), VM)
	if !ok || pid != os.Getpid() || start != self {
		t.Errorf("Owner(%s) = %d, %d, %v; want this process, %d, %d", filepath.Base(dir), pid, start, ok, os.Getpid(), self)
	}
	if _, err := Make("a/b"); err == nil {
		t.Error("Make with a path as prefix should fail")
	}
}

func TestSweepRemovesOnlyFoldersOfGoneOwners(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := deadPid(t)
	self, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	old := 2 * MinAge
	live, err := Make(VM)
	if err != nil {
		t.Fatal(err)
	}
	backdate(t, live, old)
	gone := []string{
		folder(t, tmp, fmt.Sprintf("%s%d-%d-123", VM, dead, self), old),            // the owner is gone
		folder(t, tmp, fmt.Sprintf("%s%d-%d-456", RPi3, os.Getpid(), self+1), old), // the pid is another process now
		folder(t, tmp, fmt.Sprintf("%s%d-%d-789", Bin, os.Getppid(), 1), old),      // the same
		folder(t, tmp, fmt.Sprintf("%s%d-%d-1011", PiLane, dead, 0), old),          // any start of a dead pid
	}
	kept := []string{
		live, // its owner, this process, is alive
		folder(t, tmp, fmt.Sprintf("%s%d-%d-1", VM, dead, self), MinAge/2), // too young
		// Names Make does not give, or with a prefix not swept.
		folder(t, tmp, "gpiohil-vm-762968615", old), // older gpiohil builds' names
		folder(t, tmp, fmt.Sprintf("%s%d-%d-2-3", VM, dead, self), old),
		folder(t, tmp, fmt.Sprintf("%s%d-%d-x", VM, dead, self), old),
		folder(t, tmp, fmt.Sprintf("%s%d-%d", VM, dead, self), old),
		folder(t, tmp, fmt.Sprintf("%s-%d-%d-4", VM, dead, self), old),
		folder(t, tmp, fmt.Sprintf("gpiohil-vmx-%d-%d-5", dead, self), old),
		folder(t, tmp, fmt.Sprintf("other-%d-%d-6", dead, self), old),
		folder(t, tmp, fmt.Sprintf("%s%d-%d-7", "gpiohil-elsewhere-", dead, self), old),
		folder(t, tmp, fmt.Sprintf("%s0-%d-8", VM, self), old),
	}
	// A file and a symlink with a name Make would give: only directories are swept, and a
	// symlink is never followed.
	file := filepath.Join(tmp, fmt.Sprintf("%s%d-%d-9", VM, dead, self))
	os.WriteFile(file, nil, 0o600)
	backdate(t, file, old)
	target := folder(t, tmp, "target", old)
	link := filepath.Join(tmp, fmt.Sprintf("%s%d-%d-10", VM, dead, self))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, file, target, link)
	if os.Geteuid() == 0 {
		// Another user's folder, when this test can make one.
		other := folder(t, tmp, fmt.Sprintf("%s%d-%d-11", VM, dead, self), 0)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		backdate(t, other, old)
		kept = append(kept, other)
	}

	removed := Sweep(VM, RPi3, Bin, PiLane)
	slices.Sort(removed)
	slices.Sort(gone)
	if !slices.Equal(removed, gone) {
		t.Errorf("Sweep removed %q, want %q", removed, gone)
	}
	for _, p := range gone {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s should have been kept: %v", p, err)
		}
	}
}

func TestSweepKeepsPrefixesNotGiven(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := folder(t, tmp, fmt.Sprintf("%s%d-1-2", RPi3, deadPid(t)), 2*MinAge)
	if removed := Sweep(VM); len(removed) != 0 {
		t.Errorf("Sweep(%q) removed %q", VM, removed)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("%s should have been kept: %v", p, err)
	}
}

func TestStartTimeOfThisProcess(t *testing.T) {
	a, err := startTime(os.Getpid())
	if err != nil || a == 0 {
		t.Fatalf("startTime(self) = %d, %v", a, err)
	}
	if b, _ := startTime(os.Getppid()); b > a {
		t.Errorf("the parent started at %d, after this process (%d)", b, a)
	}
	if _, err := startTime(deadPid(t)); !os.IsNotExist(err) {
		t.Errorf("startTime of an ended process: %v, want not exist", err)
	}
}
