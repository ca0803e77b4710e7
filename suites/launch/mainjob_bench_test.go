package launch_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// BenchmarkMainJob times the main job as `make run` runs it once everything is built, each
// command on its own and in turn, as a user runs them: the built gpiohil binary (make build,
// make build-arm64; $GPIOHIL_BIN) running every suite on the default bench, then on the
// emulated Raspberry Pi 3 (both lanes), then the semantics matrix. It reports the median wall
// time of each command and of the three together.
//
//	GPIOHIL_BIN=$PWD/bin/gpiohil go test -run '^$' -bench MainJob -benchtime 3x -timeout 30m ./suites/launch/
func BenchmarkMainJob(b *testing.B) {
	bin := runenv.Bin()
	if bin == "" {
		vmtest.RequireLane(b, "gpiohil binary", fmt.Sprintf("set %s to the gpiohil that make build built (its suites binaries and gpiohil-arm64 next to it)", runenv.EnvBin))
	}
	vmtest.Require(b)
	for _, l := range rpi3.Lanes {
		vmtest.RequireLane(b, "emulated Pi lane "+l.Name, rpi3.Missing(l))
	}
	dir := b.TempDir()
	junit := func(name string) string { return filepath.Join(dir, name) }
	reportArgs := []string{"report", "--md", junit("semantics.md"), "--html", junit("semantics.html"), junit("suites.xml")}
	for _, l := range rpi3.Lanes {
		reportArgs = append(reportArgs, junit("suites-vm-rpi3-"+l.Name+".xml"))
	}
	cmds := []struct {
		name string
		args []string
	}{
		{"default-bench", []string{"run", "--junit", junit("suites.xml")}},
		{"vm-rpi3", []string{"run", "--bench", "vm-rpi3", "--junit", junit("suites-vm-rpi3.xml")}},
		{"report", reportArgs},
	}
	times := make([][]time.Duration, len(cmds)+1)
	for b.Loop() {
		var total time.Duration
		for i, c := range cmds {
			cmd := exec.Command(bin, c.args...)
			cmd.Dir = dir
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("gpiohil %v: %v\n%s", c.args, err, out)
			}
			d := time.Since(start)
			times[i] = append(times[i], d)
			total += d
		}
		times[len(cmds)] = append(times[len(cmds)], total)
	}
	med := func(ds []time.Duration) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2].Seconds()
	}
	for i, c := range cmds {
		b.ReportMetric(med(times[i]), "s-"+c.name)
	}
	b.ReportMetric(med(times[len(cmds)]), "s-total")
	b.ReportMetric(0, "ns/op") // the mean says little; the medians above are the result
	b.Logf("whole job: %v", times[len(cmds)])
	if _, err := os.Stat(junit("semantics.md")); err != nil {
		b.Errorf("no semantics matrix: %v", err)
	}
}
