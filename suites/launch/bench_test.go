package launch_test

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// BenchmarkFullRun measures the full default run on the VM lane, boot included: every
// built-in tool, every scenario, as `gpiohil run --bench vm` does it. It reports the median
// wall time and the number of specs run (not skipped).
//
//	go test -run '^$' -bench FullRun -benchtime 3x ./suites/launch
func BenchmarkFullRun(b *testing.B) {
	vmtest.Require(b)
	dir := b.TempDir()
	suitesBin := filepath.Join(dir, "suites.test")
	if out, err := exec.Command("go", "test", "-c", "-o", suitesBin, "..").CombinedOutput(); err != nil {
		b.Fatalf("build the suites: %v\n%s", err, out)
	}
	var times []time.Duration
	var ran, specs int
	for b.Loop() {
		start := time.Now()
		sum, err := launch.Run(context.Background(), launch.Config{Bench: launch.BenchVM, JUnit: filepath.Join(dir, "suites.xml"),
			Suites: suitesBin, Self: vmtest.Binary(b), Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if !sum.OK() {
			b.Fatalf("the run failed: %+v", sum)
		}
		times = append(times, time.Since(start))
		ran, specs = sum.Passed+sum.Failed+sum.Errors, sum.Specs
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2].Seconds(), "s-median-wall")
	b.ReportMetric(float64(ran), "specs-run")
	b.ReportMetric(float64(specs), "specs-total")
	b.ReportMetric(times[len(times)/2].Seconds()/float64(ran)*1000, "ms-per-spec-run")
}
