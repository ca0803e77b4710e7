package vm_test

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vm"
)

// fakeBzImage writes the parts of an x86 boot header KernelRelease reads.
func fakeBzImage(t *testing.T, version string) string {
	t.Helper()
	b := make([]byte, 0x400)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x20e:], 0x100) // the string is at 0x200+0x100
	copy(b[0x300:], version+"\x00trailing bytes")
	p := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKernelRelease(t *testing.T) {
	got, err := vm.KernelRelease(fakeBzImage(t, "6.12.117 (root@vm) #1 Tue Dec  1 11:43:23 UTC 2026"))
	if err != nil || got != "6.12.117" {
		t.Errorf("KernelRelease = %q, %v; want 6.12.117", got, err)
	}
	notKernel := filepath.Join(t.TempDir(), "bzImage")
	os.WriteFile(notKernel, []byte("not a kernel"), 0o644)
	if _, err := vm.KernelRelease(notKernel); err == nil || !strings.Contains(err.Error(), "is not an x86 bzImage; build one with: make kernel") {
		t.Errorf("KernelRelease of a text file: %v", err)
	}
	if _, err := vm.KernelRelease(fakeBzImage(t, "")); err == nil || !strings.Contains(err.Error(), "empty version string") {
		t.Errorf("KernelRelease without a version string: %v", err)
	}
}

func TestQEMUVersion(t *testing.T) {
	if _, err := exec.LookPath(vm.DefaultQEMU); err != nil {
		t.Skipf("%s not installed", vm.DefaultQEMU)
	}
	v, err := vm.QEMUVersion(context.Background(), vm.DefaultQEMU)
	if err != nil || !strings.HasPrefix(v, "QEMU emulator version ") || strings.Contains(v, "\n") {
		t.Errorf("QEMUVersion = %q, %v; want its first line", v, err)
	}
	if _, err := vm.QEMUVersion(context.Background(), "/nonexistent/qemu"); err == nil {
		t.Error("QEMUVersion of a missing binary should fail")
	}
}
