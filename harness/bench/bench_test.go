package bench_test

import (
	"slices"
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
	b.ReportMetric(float64(median(freeT).Microseconds()), "µs-free-line-median")
	b.ReportMetric(float64(median(heldT).Microseconds()), "µs-held-line-median")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
