package rpi3_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// BenchmarkBoot measures the time from starting QEMU to the guest agent's Ready frame, the
// fixed cost of every run in the emulated Pi, and reports its median as boot-ms (use
// -benchtime 5x or more). The guest runs `true`; the full run, power-off included, is total-ms.
// $RPI3_BENCH_APPEND adds kernel parameters, to compare boot options (a knob of this benchmark
// only, not one of gpiohil's settings).
func BenchmarkBoot(b *testing.B) {
	rpi3test.Require(b)
	initBin := rpi3test.Init(b)
	var boots, totals, uptimes []time.Duration
	for b.Loop() {
		res, err := rpi3.Run(context.Background(), rpi3.Config{Args: []string{"true"}, Init: initBin,
			Timeout: 2 * time.Minute, Append: os.Getenv("RPI3_BENCH_APPEND")})
		if err != nil {
			b.Fatal(err)
		}
		if res.Code != 0 || !res.PoweredOff {
			b.Fatalf("true exited %d, powered off %v", res.Code, res.PoweredOff)
		}
		boots, totals, uptimes = append(boots, res.Boot), append(totals, res.Total), append(uptimes, res.Uptime)
	}
	b.ReportMetric(ms(median(boots)), "boot-ms")
	b.ReportMetric(ms(median(uptimes)), "uptime-ms")
	b.ReportMetric(ms(median(totals)), "total-ms")
	b.Logf("boot to agent: %v", boots)
}

// BenchmarkBootBare compares, per board, side by side, the emulated Pi's run of `true` (QEMU
// start to QEMU gone: boot, gpiohil's agent, power-off) with a bare boot of the same machine,
// kernel and device tree whose /init is a busybox script that powers the board off the same way
// (the watchdog module, then poweroff -f). Each iteration runs both, alternating. It reports
// the medians and their ratio: gpiohil's own cost at boot.
//
//	go test -run '^$' -bench BootBare -benchtime 5x ./harness/vm/rpi3/
func BenchmarkBootBare(b *testing.B) {
	for _, lane := range []rpi3.Lane{rpi3.PersistOff, rpi3.Pi4BareLanes[0]} {
		b.Run(lane.Board.Name, func(b *testing.B) { bootBare(b, lane) })
	}
}

func bootBare(b *testing.B, lane rpi3.Lane) {
	if why := rpi3.Missing(lane); why != "" {
		vmtest.RequireLane(b, "emulated "+lane.Board.Model, why)
	}
	initBin := rpi3test.Init(b)
	k, err := rpi3.FindKernel("")
	if err != nil {
		b.Fatal(err)
	}
	dtb, err := k.DTBOf(lane.Board)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	initrd := filepath.Join(dir, "bare.cpio")
	script := "#!/bin/busybox sh\n/bin/busybox insmod /wdt.ko\n/bin/busybox poweroff -f\n"
	err = initramfs.WriteFile(initrd, []initramfs.Entry{
		initramfs.CharDev("/dev/console", 5, 1), initramfs.Dir("/bin"),
		initramfs.File("/bin/busybox", k.Busybox, 0o755), initramfs.File("/wdt.ko", k.Watchdog, 0o644),
		{Path: "/init", Mode: 0o755, Data: []byte(script)},
	})
	if err != nil {
		b.Fatal(err)
	}
	qemu, err := exec.LookPath(lane.Board.QEMU())
	if err != nil {
		b.Fatal(err)
	}
	bare := []string{"-machine", lane.Board.Machine, "-accel", "tcg,thread=single", "-m", lane.Board.Memory,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", k.Image, "-dtb", dtb, "-initrd", initrd,
		"-append", "console=ttyAMA0 panic=-1 quiet rdinit=/init", "-serial", "null"}
	var bareT, runT []time.Duration
	for b.Loop() {
		start := time.Now()
		if out, err := exec.Command(qemu, bare...).CombinedOutput(); err != nil {
			b.Fatalf("bare boot: %v\n%s", err, out)
		}
		bareT = append(bareT, time.Since(start))
		res, err := rpi3.Run(context.Background(), rpi3.Config{Lane: lane, Args: []string{"true"}, Init: initBin, Timeout: 2 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if res.Code != 0 || !res.PoweredOff {
			b.Fatalf("true exited %d, powered off %v", res.Code, res.PoweredOff)
		}
		runT = append(runT, res.Total)
	}
	mb, mr := median(bareT), median(runT)
	b.ReportMetric(mr.Seconds(), "s-run-median")
	b.ReportMetric(mb.Seconds(), "s-bare-boot-median")
	b.ReportMetric(mr.Seconds()/mb.Seconds(), "ratio")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s: bare %v; gpiohil %v", lane.Board.Model, bareT, runT)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkUserland boots the Debian bookworm userland lane and imports gpiozero and RPi.GPIO
// in it, with and without the register witness's trace (QEMU's memory_region_ops_write), the
// two alternating so that both see the same machine: boot-ms is the boot to the agent with the
// userland, total-ms the whole run, trace-ratio the traced run's median over the untraced
// one's, trace-kB the size of the trace.
func BenchmarkUserland(b *testing.B) {
	lane, err := rpi3.LaneByName("bookworm-persist-off")
	if err != nil {
		b.Fatal(err)
	}
	if why := rpi3.Missing(lane); why != "" {
		b.Skip(why)
	}
	initBin := rpi3test.Init(b)
	dir := b.TempDir()
	var boots, plain, traced []time.Duration
	var size int64
	for i := 0; b.Loop(); i++ {
		cfg := rpi3.Config{Lane: lane, Init: initBin, Timeout: 3 * time.Minute,
			Args: []string{"/usr/bin/python3", "-c", "import gpiozero, RPi.GPIO"}}
		if i%2 == 1 {
			cfg.Trace = filepath.Join(dir, "trace.log")
		}
		res, err := rpi3.Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if res.Code != 0 {
			b.Fatalf("python3 -c 'import gpiozero, RPi.GPIO' exited %d", res.Code)
		}
		if cfg.Trace == "" {
			plain, boots = append(plain, res.Total), append(boots, res.Boot)
			continue
		}
		traced = append(traced, res.Total)
		if st, err := os.Stat(cfg.Trace); err == nil {
			size = st.Size()
		}
	}
	if len(traced) == 0 {
		b.Fatal("no traced run: use -benchtime 2x or more")
	}
	b.ReportMetric(ms(median(boots)), "boot-ms")
	b.ReportMetric(ms(median(plain)), "total-ms")
	b.ReportMetric(ms(median(traced)), "traced-ms")
	b.ReportMetric(float64(median(traced))/float64(median(plain)), "trace-ratio")
	b.ReportMetric(float64(size)/1000, "trace-kB")
	b.Logf("untraced %v; traced %v", plain, traced)
}
