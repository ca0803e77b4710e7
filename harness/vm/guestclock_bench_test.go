package vm_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// stampC prints, on the kernel log's clock (µs since boot), when the kernel ran /init and when
// this program's main started. As the guest's /init (pid 1) it then ends QEMU through
// isa-debug-exit; run by `gpiohil vm run` it also times the first start of /bin/true from the
// host root (dynamically linked: loader and libc read over 9p). It also says whether the kernel
// gave up on the TSC at boot (and so counts time in jiffies, 4 ms steps at HZ=250).
const stampC = `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long stamp(const char *rec) { /* "6,150,963891,-;Run /init as init process" */
	const char *p = strchr(rec, ',');
	if (p) p = strchr(p + 1, ',');
	return p ? atoll(p + 1) : -1;
}

int main(void) {
	long long run = -1, at = -1, tru = -1;
	int jiffies = 0;
	int fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK);
	if (fd >= 0) {
		char rec[8192];
		ssize_t n = write(fd, "gpiohil-bench-mark\n", 19);
		for (;;) {
			n = read(fd, rec, sizeof rec - 1);
			if (n < 0 && errno == EPIPE) continue;
			if (n <= 0) break;
			rec[n] = 0;
			if (strstr(rec, ";Run /init as init process")) run = stamp(rec);
			if (strstr(rec, ";gpiohil-bench-mark")) at = stamp(rec);
			if (strstr(rec, "Marking TSC unstable")) jiffies = 1;
		}
	}
	if (getpid() != 1) {
		struct timespec t0, t1;
		int st;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t pid = fork();
		if (pid == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tru = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
	}
	printf("gpiohil-bench: run-us=%lld main-us=%lld true-us=%lld jiffies=%d\n", run, at, tru, jiffies);
	fflush(stdout);
	if (getpid() == 1) {
		int port = open("/dev/port", O_WRONLY);
		char c = 0;
		if (port >= 0) pwrite(port, &c, 1, 0xf4);
		reboot(RB_AUTOBOOT);
		for (;;) pause();
	}
	return 0;
}
`

// helloGo is a hello-world Go program as /init: the same stamps as stampC, taken first thing
// in main, after Go's runtime bootstrap and package initialisation.
const helloGo = `package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	run, at, jiffies := int64(-1), int64(-1), 0
	if fd, err := syscall.Open("/dev/kmsg", syscall.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
		syscall.Write(fd, []byte("gpiohil-bench-mark\n"))
		rec := make([]byte, 8192)
		for {
			n, err := syscall.Read(fd, rec)
			if err == syscall.EPIPE {
				continue
			}
			if err != nil || n <= 0 {
				break
			}
			r := string(rec[:n])
			f := strings.SplitN(r, ",", 4)
			if len(f) < 3 {
				continue
			}
			t, _ := strconv.ParseInt(f[2], 10, 64)
			if strings.Contains(r, ";Run /init as init process") {
				run = t
			}
			if strings.Contains(r, ";gpiohil-bench-mark") {
				at = t
			}
			if strings.Contains(r, "Marking TSC unstable") {
				jiffies = 1
			}
		}
	}
	fmt.Println("hello, world")
	fmt.Printf("gpiohil-bench: run-us=%d main-us=%d true-us=-1 jiffies=%d\n", run, at, jiffies)
	if fd, err := syscall.Open("/dev/port", syscall.O_WRONLY, 0); err == nil {
		syscall.Pwrite(fd, []byte{0}, 0xf4)
	}
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
	select {}
}
`

// stamps is one boot's guest-clock stamps.
type stamps struct {
	run, main, firstTrue time.Duration
	jiffies              bool // the kernel's clock advanced in jiffies (4 ms steps): no TSC
}

func parseStamps(out []byte) (stamps, error) {
	i := bytes.Index(out, []byte("gpiohil-bench: "))
	if i < 0 {
		return stamps{}, fmt.Errorf("no stamps in the output:\n%s", out)
	}
	var run, at, tru, jiffies int64
	if _, err := fmt.Sscanf(string(out[i:]), "gpiohil-bench: run-us=%d main-us=%d true-us=%d jiffies=%d", &run, &at, &tru, &jiffies); err != nil || run < 0 || at < 0 {
		return stamps{}, fmt.Errorf("bad stamps (%v): %q", err, bytes.SplitN(out[i:], []byte("\n"), 2)[0])
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return stamps{us(run), us(at), us(tru), jiffies == 1}, nil
}

// BenchmarkGuestClock measures gpiohil's part of `gpiohil vm run` on the guest's own clock (the
// kernel log's timestamps), and the floor it is compared with. Each iteration boots, in turn,
// the same kernel with a static C program as /init, the same kernel with a hello-world Go
// program as /init (both ending QEMU at once), and `gpiohil vm run -- ./stamp`, where stamp is
// that C program run by gpiohil's agent from the working directory. It reports medians:
//   - ms-bare-kernel-to-init, ms-vmrun-kernel-to-init: the kernel's "Run /init" stamp in the
//     bare boot and in gpiohil's VM (larger initramfs, two virtio-9p devices); ms-kernel-extra
//     is the median of their difference per iteration.
//   - ms-c-init-to-main, ms-go-hello-init-to-main: from "Run /init" to main of a static C
//     program and of a hello-world Go program (Go's runtime bootstrap and package init).
//   - ms-agent-to-command: from "Run /init" to the main of the command gpiohil's agent runs
//     (Go's runtime, mounts, serial channel, configuration, Ready frame, 9p mounts, chroot, and
//     the exec of a small static program).
//   - ms-first-true: the first start of /bin/true in the guest (dynamically linked, from the
//     host root over 9p), timed by the command.
//   - boots-on-jiffies, of boots: how many boots ran on the jiffies clock, the kernel having
//     failed to calibrate the TSC (on a busy host); their stamps move in 4 ms steps.
//
// docs/performance.md prints the command:
//
//	go test -run '^$' -bench GuestClock -benchtime 9x ./harness/vm/
func BenchmarkGuestClock(b *testing.B) {
	vmtest.Require(b)
	if _, err := exec.LookPath("gcc"); err != nil {
		vmtest.RequireLane(b, "gcc", "gcc not found: the stamp program is C (apt-get install gcc; ci/deps.sh does)")
	}
	dir := b.TempDir()
	stampBin, helloBin := filepath.Join(dir, "stamp"), filepath.Join(dir, "hello")
	os.WriteFile(filepath.Join(dir, "stamp.c"), []byte(stampC), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.go"), []byte(helloGo), 0o644)
	if out, err := exec.Command("gcc", "-static", "-Os", "-o", stampBin, filepath.Join(dir, "stamp.c")).CombinedOutput(); err != nil {
		b.Fatalf("build the stamp program: %v\n%s", err, out)
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", helloBin, "hello.go")
	build.Dir, build.Env = dir, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build the hello-world init: %v\n%s", err, out)
	}
	initrd := func(name, init string) string {
		p := filepath.Join(dir, name+".cpio")
		err := initramfs.WriteFile(p, []initramfs.Entry{
			initramfs.CharDev("/dev/console", 5, 1), initramfs.CharDev("/dev/port", 1, 4),
			initramfs.CharDev("/dev/kmsg", 1, 11), initramfs.File("/init", init, 0o755),
		})
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	cInitrd, goInitrd := initrd("c", stampBin), initrd("go", helloBin)
	qemu, _ := exec.LookPath(vm.DefaultQEMU)
	boot := func(initrd string) stamps {
		// The VM lane's machine and kernel command line (vm.QEMUArgs), without its 9p devices
		// and channel.
		cmd := exec.Command(qemu, "-machine", "pc,accel=tcg", "-m", fmt.Sprint(vm.DefaultMemory), "-nodefaults",
			"-no-user-config", "-display", "none", "-no-reboot", "-kernel", vm.DefaultKernel(), "-initrd", initrd,
			"-append", "console=ttyS0 panic=-1 quiet rdinit=/init acpi=off 8250.nr_uarts=2",
			"-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) { // isa-debug-exit: (0<<1)|1
			b.Fatalf("boot %s: %v\n%s", filepath.Base(initrd), err, out)
		}
		s, err := parseStamps(out)
		if err != nil {
			b.Fatalf("boot %s: %v", filepath.Base(initrd), err)
		}
		return s
	}
	gpiohil := vmtest.Binary(b)

	var bareRun, vmRun, extra, cMain, goMain, agent, first []time.Duration
	boots, coarse := 0, 0
	for b.Loop() {
		c, g := boot(cInitrd), boot(goInitrd)
		cmd := exec.Command(gpiohil, "vm", "run", "--", "./stamp")
		cmd.Dir, cmd.Stderr = dir, os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("gpiohil vm run -- ./stamp: %v\n%s", err, out)
		}
		v, err := parseStamps(out)
		if err != nil {
			b.Fatalf("gpiohil vm run -- ./stamp: %v", err)
		}
		bareRun, vmRun, extra = append(bareRun, c.run), append(vmRun, v.run), append(extra, v.run-c.run)
		cMain, goMain = append(cMain, c.main-c.run), append(goMain, g.main-g.run)
		agent, first = append(agent, v.main-v.run), append(first, v.firstTrue)
		for _, s := range []stamps{c, g, v} {
			boots++
			if s.jiffies {
				coarse++
			}
		}
	}
	ms := func(ds []time.Duration) float64 { return float64(median(ds).Microseconds()) / 1000 }
	b.ReportMetric(ms(bareRun), "ms-bare-kernel-to-init")
	b.ReportMetric(ms(vmRun), "ms-vmrun-kernel-to-init")
	b.ReportMetric(ms(extra), "ms-kernel-extra")
	b.ReportMetric(ms(cMain), "ms-c-init-to-main")
	b.ReportMetric(ms(goMain), "ms-go-hello-init-to-main")
	b.ReportMetric(ms(agent), "ms-agent-to-command")
	b.ReportMetric(ms(first), "ms-first-true")
	b.ReportMetric(float64(coarse), "boots-on-jiffies")
	b.ReportMetric(float64(boots), "boots")
	b.ReportMetric(0, "ns/op") // three boots' mean says little; the medians above are the result
	b.Logf("go hello-world, Run /init to main: %v", goMain)
	b.Logf("agent, Run /init to the command's main: %v", agent)
	b.Logf("first /bin/true: %v", first)
}
