package launch_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// BenchmarkFullRun measures the full default run on the VM lane, boot included: every
// built-in tool, every scenario, as `gpiohil run --bench vm` does it (one VM per CPU, the
// specs shared between them). It reports the median wall time and the number of specs run
// (not skipped), and, side by side in the same iterations, the median of the same run in one
// VM. From the default runs' JUnit reports it also reports the median time outside the suite
// itself (boots, the suites binary's start, merging the report) and python3-libgpiod's share of
// the specs' time, and logs each tool's spec times.
//
//	GPIOHIL_BIN=$PWD/bin/gpiohil go test -run '^$' -bench FullRun -benchtime 3x -timeout 30m ./suites/launch/
func BenchmarkFullRun(b *testing.B) {
	vmtest.Require(b)
	dir := b.TempDir()
	suitesBin := buildSuites(b, dir)
	var times, oneVM, outside []time.Duration
	var ran, specs int
	spent := timeSpent{}
	run := func(vms int) (launch.Summary, time.Duration) {
		start := time.Now()
		sum, err := launch.Run(context.Background(), launch.Config{Bench: vocab.BenchVM, VMs: vms, JUnit: filepath.Join(dir, "suites.xml"),
			Suites: suitesBin, Self: vmtest.Binary(b), Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if !sum.OK() {
			b.Fatalf("the run (%d VMs) failed: %+v", vms, sum)
		}
		return sum, time.Since(start)
	}
	for b.Loop() {
		sum, d := run(0)
		times = append(times, d)
		suite, err := spent.add(filepath.Join(dir, "suites.xml"))
		if err != nil {
			b.Fatal(err)
		}
		outside = append(outside, d-suite)
		ran, specs = sum.Passed+sum.Failed+sum.Errors, sum.Specs
		if launch.DefaultVMs() > 1 {
			one, d := run(1)
			if one.Passed+one.Failed+one.Errors != ran {
				b.Fatalf("one VM ran %d specs, %d VMs ran %d", one.Passed+one.Failed+one.Errors, launch.DefaultVMs(), ran)
			}
			oneVM = append(oneVM, d)
		}
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2].Seconds(), "s-median-wall")
	b.ReportMetric(float64(launch.DefaultVMs()), "vms")
	if len(oneVM) > 0 {
		slices.Sort(oneVM)
		b.ReportMetric(oneVM[len(oneVM)/2].Seconds(), "s-median-wall-one-vm")
	}
	b.ReportMetric(float64(ran), "specs-run")
	b.ReportMetric(float64(specs), "specs-total")
	b.ReportMetric(times[len(times)/2].Seconds()/float64(ran)*1000, "ms-per-spec-run")
	slices.Sort(outside)
	b.ReportMetric(outside[len(outside)/2].Seconds(), "s-median-outside-suite")
	b.ReportMetric(spent.share("python3-libgpiod"), "%-spec-time-python3-libgpiod")
	b.Logf("where the time goes (JUnit times of the %d-VM runs; outside the suite: boot, suites start, report): %s", launch.DefaultVMs(), spent)
}

// timeSpent collects the JUnit times of the specs that ran (not skipped), by tool.
type timeSpent map[string][]time.Duration

// add reads one run's JUnit report and returns the suite's own time (the longest shard's).
func (t timeSpent) add(path string) (time.Duration, error) {
	s, err := junit.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var suite time.Duration
	for _, st := range s.Suites {
		d, _ := time.ParseDuration(st.Time + "s")
		suite = max(suite, d)
		for _, c := range st.Cases {
			if c.Skipped != nil {
				continue
			}
			tool := c.Name // "persistence gpiohil-drive hold high, ...": the tool is the second word
			if f := strings.Fields(c.Name); len(f) > 2 {
				tool = f[1]
			}
			d, _ := time.ParseDuration(c.Time + "s")
			t[tool] = append(t[tool], d)
		}
	}
	return suite, nil
}

// share is the tool's percentage of all the specs' time.
func (t timeSpent) share(tool string) float64 {
	var all, its time.Duration
	for name, ds := range t {
		for _, d := range ds {
			all += d
			if name == tool {
				its += d
			}
		}
	}
	if all == 0 {
		return 0
	}
	return 100 * its.Seconds() / all.Seconds()
}

// String lists, for each tool, its specs per run, their median and range, and its share.
func (t timeSpent) String() string {
	var out []string
	for _, tool := range slices.Sorted(maps.Keys(t)) {
		ds := slices.Sorted(slices.Values(t[tool]))
		out = append(out, fmt.Sprintf("%s: %d spec runs, median %v (%v to %v), %.0f%% of the spec time", tool, len(ds),
			ds[len(ds)/2].Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), t.share(tool)))
	}
	return strings.Join(out, "; ")
}

// BenchmarkTimelineOverhead measures what recording every spec's timeline costs (gpiolib's
// trace events, line info, the driver's rules, the larger reports): the full VM lane with
// timelines (the default) and with --no-timeline, side by side, alternating in each iteration.
// It reports both medians and the median of the iterations' ratios; the goal is at most 1.10.
// The Pi lanes' share (the register witness, read on the host either way) is not in it.
//
//	GPIOHIL_BIN=$PWD/bin/gpiohil go test -run '^$' -bench TimelineOverhead -benchtime 5x -timeout 30m ./suites/launch/
func BenchmarkTimelineOverhead(b *testing.B) {
	vmtest.Require(b)
	dir := b.TempDir()
	suitesBin := buildSuites(b, dir)
	run := func(noTimeline bool) time.Duration {
		start := time.Now()
		sum, err := launch.Run(context.Background(), launch.Config{Bench: vocab.BenchVM, NoTimeline: noTimeline,
			JUnit: filepath.Join(dir, "suites.xml"), Suites: suitesBin, Self: vmtest.Binary(b), Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if !sum.OK() {
			b.Fatalf("the run (--no-timeline %v) failed: %+v", noTimeline, sum)
		}
		return time.Since(start)
	}
	var on, off []time.Duration
	var ratios []float64
	i := 0
	for b.Loop() {
		var a, o time.Duration
		if i%2 == 0 { // alternate which goes first
			a, o = run(false), run(true)
		} else {
			o, a = run(true), run(false)
		}
		i++
		on, off, ratios = append(on, a), append(off, o), append(ratios, a.Seconds()/o.Seconds())
	}
	slices.Sort(on)
	slices.Sort(off)
	slices.Sort(ratios)
	b.ReportMetric(on[len(on)/2].Seconds(), "s-median-with-timelines")
	b.ReportMetric(off[len(off)/2].Seconds(), "s-median-without")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
}
