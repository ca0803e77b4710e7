package launch_test

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// BenchmarkFullRun measures the full default run on the VM lane, boot included: every
// built-in tool, every scenario, as `gpiohil run --bench vm` does it (one VM per CPU, the
// specs shared between them). It reports the median wall time and the number of specs run
// (not skipped), and, side by side in the same iterations, the median of the same run in one
// VM.
//
//	go test -run '^$' -bench FullRun -benchtime 3x ./suites/launch
func BenchmarkFullRun(b *testing.B) {
	vmtest.Require(b)
	dir := b.TempDir()
	suitesBin := buildSuites(b, dir)
	var times, oneVM []time.Duration
	var ran, specs int
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
}
