package loopback_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/jumper"
)

// timedSettler counts and times the wire's Settles.
type timedSettler struct {
	w     *jumper.Wire
	times []time.Duration
}

func (s *timedSettler) Settle() error {
	start := time.Now()
	err := s.w.Settle()
	s.times = append(s.times, time.Since(start))
	return err
}

// BenchmarkSettle runs the wiring check of the built-in plan (eight pairs) on the simulated
// wire, as BenchmarkCheck does, and times every Settle of the wire it waits for: it reports how
// many Settles a pair takes, their median, and their share of the check's time.
func BenchmarkSettle(b *testing.B) {
	requireFineClock(b)
	r := testRig()
	c, err := simChip()
	if err != nil {
		b.Fatal(err)
	}
	var jumpers [][2]string
	for _, p := range r.Pairs {
		jumpers = append(jumpers, [2]string{p.Line, p.Partner})
	}
	w, err := jumper.Start(jumper.Config{Chip: c, Jumpers: jumpers, MidRail: jumper.MidRailKeep})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	s := &timedSettler{w: w}
	bn, err := loopback.Open(r, loopback.Options{Settler: s, LockDir: b.TempDir(), DebugFS: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer bn.Close()
	s.times = nil
	b.ResetTimer()
	for b.Loop() {
		if rep := bn.Check(); !rep.OK() {
			b.Fatal(rep)
		}
	}
	elapsed := b.Elapsed()
	requireFineClock(b)
	var sum time.Duration
	for _, d := range s.times {
		sum += d
	}
	sorted := slices.Sorted(slices.Values(s.times))
	b.ReportMetric(float64(len(s.times))/float64(b.N*len(r.Pairs)), "settles/pair")
	b.ReportMetric(float64(sorted[len(sorted)/2].Microseconds()), "µs-median-settle")
	b.ReportMetric(100*sum.Seconds()/elapsed.Seconds(), "%-check-in-settle")
}

// requireFineClock fails b when the kernel's clock advances in jiffies. Under TCG on a loaded
// host the VM's kernel can fail to calibrate the TSC at boot ("tsc: Unable to calibrate against
// PIT"; with acpi=off there is no HPET or PM timer to calibrate against), or its clocksource
// watchdog can give up on the TSC later; it then counts time with refined-jiffies, in 4 ms steps
// at HZ=250, and a Settle of 0.2 ms reads 0 or 4000 µs. The figure would be wrong, so there is
// none. Call it before and after the measurement.
func requireFineClock(b *testing.B) {
	cs, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	if err != nil {
		b.Fatalf("read the clocksource: %v", err)
	}
	if name := strings.TrimSpace(string(cs)); strings.Contains(name, "jiffies") {
		b.Fatalf("the kernel's clocksource is %s (4 ms steps: the TSC could not be calibrated or was given up, "+
			"usually because the host was busy); this benchmark's times would be meaningless: run it again on a quieter machine", name)
	}
}
