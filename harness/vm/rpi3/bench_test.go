package rpi3_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
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
