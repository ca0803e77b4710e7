package vm_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// BenchmarkBoot measures, side by side in one run, the wall time of `gpiohil vm run -- true`
// (the whole command, as a user runs it) and of a bare QEMU boot of the same kernel whose init
// is a static C program that ends QEMU at once. Each iteration runs both, alternating, so both
// see the same machine load. It reports the medians and their ratio.
//
//	go test -run '^$' -bench BenchmarkBoot -benchtime 9x ./harness/vm
func BenchmarkBoot(b *testing.B) {
	vmtest.Require(b)
	// ci/deps.sh installs gcc (and libc6-dev, for -static): missing, it is a skip only where
	// the VM lane is not required.
	if _, err := exec.LookPath("gcc"); err != nil {
		vmtest.RequireLane(b, "gcc", "gcc not found: the baseline init is built from testdata/bareinit.c (apt-get install gcc libc6-dev)")
	}
	dir := b.TempDir()
	bareInit := filepath.Join(dir, "init")
	if out, err := exec.Command("gcc", "-static", "-Os", "-o", bareInit, "testdata/bareinit.c").CombinedOutput(); err != nil {
		b.Fatalf("build the baseline init: %v\n%s", err, out)
	}
	bareInitrd := filepath.Join(dir, "bare.cpio")
	err := initramfs.WriteFile(bareInitrd, []initramfs.Entry{
		initramfs.CharDev("/dev/console", 5, 1), initramfs.CharDev("/dev/port", 1, 4),
		initramfs.File("/init", bareInit, 0o755),
	})
	if err != nil {
		b.Fatal(err)
	}
	qemu, _ := exec.LookPath(vm.DefaultQEMU)
	bare := []string{"-machine", "pc,accel=tcg", "-m", "256", "-nodefaults", "-no-user-config",
		"-display", "none", "-no-reboot", "-kernel", vm.DefaultKernel(), "-initrd", bareInitrd,
		"-append", "console=ttyS0 panic=-1 quiet rdinit=/init acpi=off 8250.nr_uarts=2",
		"-serial", "null", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}
	gpiohil := vmtest.Binary(b)

	var bareT, runT []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := exec.Command(qemu, bare...).Run(); err != nil {
			// isa-debug-exit ends QEMU with status (0<<1)|1.
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				b.Fatalf("bare boot: %v", err)
			}
		}
		bareT = append(bareT, time.Since(start))
		start = time.Now()
		cmd := exec.Command(gpiohil, "vm", "run", "--", "true")
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("gpiohil vm run -- true: %v", err)
		}
		runT = append(runT, time.Since(start))
	}
	mb, mr := median(bareT), median(runT)
	b.ReportMetric(mr.Seconds(), "s-vm-run-median")
	b.ReportMetric(mb.Seconds(), "s-bare-boot-median")
	b.ReportMetric(mr.Seconds()/mb.Seconds(), "ratio")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
