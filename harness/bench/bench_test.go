package bench_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
)

// BenchmarkObserve measures one Observe of a line inside the VM: a free line (line info, the
// sim attributes and the pull-flip probe) and a line a process holds (line info and the sim
// attributes, no probe). It reports the median of each, as this machine is shared and noisy.
//
//	go test -run '^$' -bench Observe ./harness/bench
func BenchmarkObserve(b *testing.B) {
	requireFineClock(b)
	gb, err := bench.GPIOSimFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	defer gb.Close()
	free, _ := gb.Line("a6")
	held, _ := gb.Line("a7")
	req, err := gpiocdev.RequestLine(held.ChipName, held.Offset, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer req.Close()
	var freeT, heldT []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := gb.Observe(free); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := gb.Observe(held); err != nil {
			b.Fatal(err)
		}
		freeT = append(freeT, t1.Sub(t0))
		heldT = append(heldT, time.Since(t1))
	}
	requireFineClock(b) // again: the kernel's clocksource watchdog can give up on the TSC mid-run
	b.ReportMetric(float64(median(freeT).Microseconds()), "µs-free-line-median")
	b.ReportMetric(float64(median(heldT).Microseconds()), "µs-held-line-median")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// clocksource is where the guest kernel's current clocksource is named.
const clocksource = "/sys/devices/system/clocksource/clocksource0/current_clocksource"

// requireFineClock fails b when the kernel's clock advances in jiffies. Under TCG on a loaded
// host the VM's kernel can fail to calibrate the TSC at boot ("tsc: Unable to calibrate against
// PIT"; with acpi=off there is no HPET or PM timer to calibrate against), or its clocksource
// watchdog can give up on the TSC later; it then counts time with refined-jiffies, in 4 ms steps
// at HZ=250, and a sub-millisecond median reads 0 or 4000 µs. The figure would be wrong, so
// there is none. Call it before and after the measurement.
func requireFineClock(b *testing.B) {
	cs, err := os.ReadFile(clocksource)
	if err != nil {
		b.Fatalf("read the clocksource: %v", err)
	}
	if name := strings.TrimSpace(string(cs)); strings.Contains(name, "jiffies") {
		b.Fatalf("the kernel's clocksource is %s (4 ms steps: the TSC could not be calibrated or was given up, "+
			"usually because the host was busy); this benchmark's times would be meaningless: run it again on a quieter machine", name)
	}
}
