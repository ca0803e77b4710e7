// Package launch is `gpiohil run`: it picks the lanes a bench runs on, runs the precompiled
// suites binary in each, and reads their JUnit reports back for a summary.
//
// A lane is one place the suites run and report from, behind the Lane interface: the host's
// own gpio-sim or a board (lane_host.go), gpiohil's gpio-sim VM shared between several VMs
// (lane_vm.go), one setting of the emulated Raspberry Pi 3 (lane_pi.go). A lane owns its
// VM, initramfs and guest paths; Run only checks the input, picks the lanes, runs each one,
// and tallies what they report.
//
// The suites run as a precompiled Ginkgo test binary (`go test -c ./suites`, built by `make
// build` as bin/suites.test) rather than inside gpiohil itself: Ginkgo's RunSpecs belongs to
// the testing framework, the same binary then runs unchanged under `go test`, in the VM and on
// a board, and it can be cross-compiled for the emulated or real Raspberry Pi. What it is to
// do travels as its run configuration (runenv.Run).
package launch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Config says what to run where.
type Config struct {
	Bench        vocab.Bench // "" means auto
	Profiles     []string    // built-in profile names or profile files; empty means every built-in
	LabelFilter  string      // Ginkgo label filter, e.g. "persistence && tool:libgpiod-v1"
	JUnit        string      // where to write the JUnit report (a lane with a name adds it: suites-persist-off.xml)
	Expectations string      // an expectations file instead of the built-in one
	Suites       string      // the suites binary; "" means find or build it (see FindSuites)
	Lanes        []string    // vm-rpi3: lane names (persist-off, persist-on); empty means both
	Rig          string      // rpi: the rig file
	Board        string      // the board's name in the report
	Self         string      // the gpiohil binary (the VM's init, {{.Self}} in profiles); "" means this executable
	VM           vm.Config
	VMs          int // vm bench: how many VMs share the specs (runenv.Shard); 0 means DefaultVMs()
	Stdout       io.Writer
	Stderr       io.Writer
}

// Summary is what a run found.
type Summary struct {
	Bench                                  vocab.Bench
	Specs, Passed, Failed, Errors, Skipped int
	Unknown                                int // skipped because no expectation is known
	Indistinct                             int // passed, but the bench could not tell the outcome from another
	Duration                               time.Duration
	JUnit                                  []string // one report per lane
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errors == 0 && s.Specs > 0 }

// PickBench resolves auto: gpio-sim on the running kernel when this process can create chips
// there, else the VM.
func PickBench(want vocab.Bench) vocab.Bench {
	if want != "" && want != vocab.BenchAuto {
		return want
	}
	if sim.HostHasGPIOSim() {
		return vocab.BenchGPIOSim
	}
	return vocab.BenchVM
}

// Run checks the input, runs the suites on every lane of the bench and summarises their JUnit
// reports. Bad input is an error before anything boots.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.Bench = PickBench(cfg.Bench)
	sum := Summary{Bench: cfg.Bench}
	job, err := prepare(&cfg)
	if err != nil {
		return sum, err
	}
	lanes, err := Lanes(cfg)
	if err != nil {
		return sum, err
	}
	start := time.Now()
	base := job.JUnit
	var code int
	for _, l := range lanes {
		j := job
		j.JUnit = l.Report(base)
		os.Remove(j.JUnit) // a stale report must not pass for this run's
		c, err := l.Run(ctx, j)
		if err != nil {
			sum.Duration = time.Since(start)
			return sum, laneError(lanes, l, err)
		}
		if c != 0 {
			code = c
		}
		sum.JUnit = append(sum.JUnit, j.JUnit)
	}
	sum.Duration = time.Since(start)
	for _, path := range sum.JUnit {
		s, rerr := junit.ReadFile(path)
		if rerr != nil {
			return sum, fmt.Errorf("the suites ended with status %d and wrote no JUnit report (%v)", code, rerr)
		}
		tally(&sum, s)
	}
	return sum, nil
}

// laneError names the lane when the bench has several.
func laneError(lanes []Lane, l Lane, err error) error {
	if len(lanes) > 1 {
		return fmt.Errorf("%s: %w", l.Name(), err)
	}
	return err
}

// prepare checks everything that can be checked before a lane starts and returns what every
// lane of the run shares: the suites' run configuration in host paths, their flags, the
// gpiohil binary and the report path.
func prepare(cfg *Config) (Job, error) {
	var job Job
	if _, err := vocab.ParseBench(string(cfg.Bench)); err != nil {
		return job, fmt.Errorf("%w", err)
	}
	if cfg.JUnit == "" {
		cfg.JUnit = filepath.Join("build", "junit", "suites-"+string(cfg.Bench)+".xml")
	}
	junitPath, err := filepath.Abs(cfg.JUnit)
	if err != nil {
		return job, err
	}
	if err := os.MkdirAll(filepath.Dir(junitPath), 0o755); err != nil {
		return job, err
	}
	self := cfg.Self
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return job, err
		}
	}
	run := runenv.Run{Bin: self, Board: cfg.Board}
	for _, p := range cfg.Profiles {
		if profile.IsFile(p) {
			if p, err = filepath.Abs(p); err != nil {
				return job, err
			}
		}
		run.Profiles = append(run.Profiles, p)
	}
	// A malformed or unknown profile is reported here, before anything boots.
	if _, err := profile.Resolve(run.Profiles); err != nil {
		return job, err
	}
	if cfg.Expectations != "" {
		if run.Expectations, err = filepath.Abs(cfg.Expectations); err != nil {
			return job, err
		}
		if _, err := expect.Load(run.Expectations); err != nil {
			return job, err
		}
	}
	if cfg.Bench == vocab.BenchRPi {
		if cfg.Rig == "" {
			return job, fmt.Errorf("bench rpi needs a rig file (--rig FILE); gpiohil wiring --yaml prints the built-in plan as one")
		}
		if run.Rig, err = filepath.Abs(cfg.Rig); err != nil {
			return job, err
		}
		if _, err := rig.Load(run.Rig); err != nil {
			return job, err
		}
	}
	args := []string{"-test.v", "-ginkgo.no-color", "-ginkgo.v"}
	if cfg.LabelFilter != "" {
		args = append(args, "-ginkgo.label-filter="+cfg.LabelFilter)
	}
	return Job{Run: run, Args: args, Self: self, Suites: cfg.Suites, JUnit: junitPath, Stdout: cfg.Stdout, Stderr: cfg.Stderr}, nil
}

func tally(sum *Summary, s junit.Suites) {
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			sum.Specs++
			switch {
			case c.Failure != nil:
				sum.Failed++
			case c.Error != nil:
				sum.Errors++
			case c.Skipped != nil:
				sum.Skipped++
				for _, r := range c.Results() {
					if r.Verdict == vocab.VerdictUnknown {
						sum.Unknown++
					}
				}
			default:
				sum.Passed++
				for _, r := range c.Results() {
					if r.Verdict == vocab.MetIndistinct {
						sum.Indistinct++
					}
				}
			}
		}
	}
}

// WriteSummary prints a run's summary.
func WriteSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "\ngpiohil run: %d specs on %s in %.1fs: %d passed (%d of them not distinguishable on this bench), %d failed, %d errors, %d skipped (%d without a known expectation)\n",
		s.Specs, s.Bench, s.Duration.Seconds(), s.Passed, s.Indistinct, s.Failed, s.Errors, s.Skipped, s.Unknown)
	fmt.Fprintf(w, "JUnit: %s\n", strings.Join(s.JUnit, " "))
}
