package vm_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// upThenSleep prints "up" once the command runs in the guest, then sleeps past any test.
var upThenSleep = []string{"sh", "-c", "echo up; exec sleep 60"}

// bootBound bounds waiting for a boot (about 2 s on a quiet machine; far more on a busy one).
const bootBound = 2 * time.Minute

// signalOnWrite closes up at its first write: the command in the guest has started.
type signalOnWrite struct {
	once sync.Once
	up   chan struct{}
}

func (w *signalOnWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.up) })
	return len(p), nil
}

// qemuChildren returns the pids of this process's children that are QEMU, from
// /proc/self/task/*/children (each thread's own children).
func qemuChildren(t *testing.T) []int {
	t.Helper()
	files, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(files) == 0 {
		t.Fatalf("no /proc/self/task/*/children to find QEMU by (%v)", err)
	}
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(field)
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if strings.HasPrefix(string(comm), "qemu-system") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// A QEMU that something outside gpiohil kills (the OOM killer, a user) is reported as killed,
// with the signal, not as a guest that ended by itself.
func TestQEMUKilledBySignalIsReported(t *testing.T) {
	cfg, _, _ := prepare(t, vm.Config{Args: upThenSleep})
	w := &signalOnWrite{up: make(chan struct{})}
	cfg.Stdout = w
	errc := make(chan error, 1)
	go func() {
		_, err := vm.Run(context.Background(), cfg)
		errc <- err
	}()
	select {
	case <-w.up:
	case err := <-errc:
		t.Fatalf("the VM ended before the command started: %v", err)
	case <-time.After(bootBound):
		t.Fatalf("the command did not start within %v", bootBound)
	}
	pids := qemuChildren(t)
	if len(pids) != 1 {
		t.Fatalf("QEMU children of this test: %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatalf("kill QEMU %d: %v", pids[0], err)
	}
	var err error
	select {
	case err = <-errc:
	case <-time.After(time.Minute):
		t.Fatal("vm.Run did not return within a minute of QEMU being killed")
	}
	var ge *vm.GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want a *vm.GuestError", err)
	}
	want := "QEMU was killed by signal 9 (killed) before the VM reported an exit status"
	if ge.Signal != "SIGKILL" || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "kernel panic or agent crash") {
		t.Errorf("err = %v (Signal %q); want Signal SIGKILL and %q, not a kernel panic", err, ge.Signal, want)
	}
}

// A gpiohil killed with SIGKILL cannot remove its VM's folder; the next VM run removes it.
func TestFolderOfKilledGpiohilIsSweptByTheNextRun(t *testing.T) {
	vmtest.Require(t)
	bin := vmtest.Binary(t)
	// This test's own TMPDIR, so what other runs leave is not its business; a short one:
	// t.TempDir's long path would put the channel socket over the length a Unix socket allows.
	tmp, err := os.MkdirTemp("", "vmk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	env := append(os.Environ(), "TMPDIR="+tmp)
	first := exec.Command(bin, append([]string{"vm", "run", "--"}, upThenSleep...)...)
	var stderr bytes.Buffer
	first.Env, first.Dir, first.Stderr = env, t.TempDir(), &stderr
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	up := make(chan bool, 1)
	go func() { up <- bufio.NewScanner(out).Scan() }()
	select {
	case ok := <-up:
		if !ok {
			first.Wait()
			t.Fatalf("gpiohil vm run ended before the command started: %v\n%s", first.ProcessState, &stderr)
		}
	case <-time.After(bootBound):
		t.Fatalf("the command did not start within %v", bootBound)
	}
	folders, _ := filepath.Glob(filepath.Join(tmp, fmt.Sprintf("%s%d-*", tmpdir.VM, first.Process.Pid)))
	if len(folders) != 1 {
		t.Fatalf("folders of gpiohil %d in %s: %q, want one", first.Process.Pid, tmp, folders)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	if _, err := os.Stat(folders[0]); err != nil {
		t.Fatalf("the killed gpiohil's folder is gone before any sweep (%v): the test proves nothing", err)
	}
	// A sweep leaves folders younger than tmpdir.MinAge: make this one old.
	old := time.Now().Add(-2 * tmpdir.MinAge)
	if err := os.Chtimes(folders[0], old, old); err != nil {
		t.Fatal(err)
	}

	second := exec.Command(bin, "vm", "run", "--", "true")
	second.Env, second.Dir = env, t.TempDir()
	if b, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second gpiohil vm run: %v\n%s", err, b)
	}
	if _, err := os.Stat(folders[0]); !os.IsNotExist(err) {
		t.Errorf("the killed gpiohil's folder %s is still there after the next run (%v)", folders[0], err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, tmpdir.VM+"*")); len(left) != 0 {
		t.Errorf("VM folders left in %s: %q", tmp, left)
	}
}
