package runner_test

import (
	"context"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runner"
)

// BenchmarkRunnerOverhead runs /bin/true through runner.Run and through a
// bare exec.Command side by side and reports the median of each and their
// difference, the runner's overhead per action (target: at most 2 ms).
func BenchmarkRunnerOverhead(b *testing.B) {
	const tool = "/bin/true"
	var viaRunner, bare []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := runner.Run(context.Background(), runner.Spec{Argv: []string{tool}}); err != nil {
			b.Fatal(err)
		}
		viaRunner = append(viaRunner, time.Since(start))

		start = time.Now()
		if err := exec.Command(tool).Run(); err != nil {
			b.Fatal(err)
		}
		bare = append(bare, time.Since(start))
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds())
	}
	r, e := median(viaRunner), median(bare)
	b.ReportMetric(r, "runner-µs")
	b.ReportMetric(e, "exec-µs")
	b.ReportMetric(r-e, "overhead-µs")
	b.ReportMetric(0, "ns/op") // the pair's mean says little; the medians above are the result
}
