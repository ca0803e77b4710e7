package rpi3_test

import (
	"context"
	"os"
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
