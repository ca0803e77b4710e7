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
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Config says what to run where.
type Config struct {
	Bench        vocab.Bench // "" means auto
	Profiles     []string    // built-in profile names or profile files; empty means every built-in
	LabelFilter  string      // Ginkgo label filter, e.g. "persistence && tool:libgpiod-v1"
	JUnit        string      // where to write the JUnit report (a lane with a name adds it: suites-persist-off.xml)
	Expectations []string    // expectations files, added to the built-in ones
	OnlyExpect   bool        // use only the Expectations files, not the built-in ones
	NoTimeline   bool        // record no timeline for the end-state specs
	Suites       string      // the suites binary; "" means find or build it (see FindSuites)
	Lanes        []string    // vm-rpi3: lane names (rpi3.LaneByName); empty means rpi3.Lanes
	Rig          string      // rpi: the rig file
	Board        string      // the board's name in the report
	Self         string      // the gpiohil binary (the VM's init, {{.Self}} in profiles); "" means this executable
	VM           vm.Config
	VMs          int // vm bench: how many VMs share the specs (runenv.Shard); vm-rpi3: lanes at once; 0 means DefaultVMs()
	// Console is where the run reports as it goes; nil means a quiet one on Stdout.
	Console *Console
	Stdout  io.Writer
	Stderr  io.Writer
}

// InputError is bad input, found before anything ran: a flag, a profile, a rig, an
// expectations file, a label filter, an output path. gpiohil exits 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, args ...any) error { return &InputError{fmt.Errorf(format, args...)} }

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
// reports. Bad input is an *InputError before anything boots. A lane that cannot run (QEMU, the
// kernel, a crashed VM) or a run cut short (ctx; its cause says why) is an error too, and then
// nothing finished is lost: each lane's report holds every spec that finished, with its
// verdict, and every other spec as an error saying why it did not run.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.Bench = PickBench(cfg.Bench)
	sum := Summary{Bench: cfg.Bench}
	job, err := prepare(&cfg)
	if err != nil {
		return sum, err
	}
	lanes, err := Lanes(cfg)
	if err != nil {
		return sum, &InputError{err}
	}
	con := cfg.Console
	if con == nil { // a caller of its own (a test): the whole stream, as it comes
		con = NewConsole(cfg.Stdout, nil, true)
	}
	specs, err := listSpecs(ctx, job, cfg.Bench.Kind(), cfg.LabelFilter)
	if err != nil {
		return sum, err
	}
	start := time.Now()
	// Lanes run side by side, as many at once as VMs (each emulated Pi is one TCG thread); a
	// lane that cannot run stops the ones not yet started, which are reported as not run.
	var (
		mu     sync.Mutex
		failed error
		wg     sync.WaitGroup
		slots  = make(chan struct{}, laneSlots(cfg, lanes))
	)
	for _, l := range lanes {
		j := job
		j.JUnit = l.Report(job.JUnit)
		os.Remove(j.JUnit) // a stale report must not pass for this run's
		sum.JUnit = append(sum.JUnit, j.JUnit)
		t := con.Lane(l.Name(), len(specs))
		slots <- struct{}{}
		t.Begin()
		mu.Lock()
		stop := failed
		mu.Unlock()
		if stop != nil { // an earlier lane could not run, or the run was cut short
			<-slots
			err := salvage(j.JUnit, t, l, specs, "not run: "+stop.Error())
			con.Finish(t, j.JUnit, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			c, err := runLane(ctx, l, j, t, con)
			if err == nil && ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			if err == nil {
				if _, rerr := junit.ReadFile(j.JUnit); rerr != nil {
					err = fmt.Errorf("the suites ended with status %d and wrote no JUnit report (%v)", c, rerr)
				}
			}
			if err != nil {
				lerr := laneError(lanes, l, err)
				if serr := salvage(j.JUnit, t, l, specs, notRun(lerr)); serr != nil {
					lerr = errors.Join(lerr, serr)
				}
				mu.Lock()
				failed = errors.Join(failed, lerr)
				mu.Unlock()
			}
			con.Finish(t, j.JUnit, err)
			_ = c // the verdicts are in the report; a status without a report is the error above
		}()
	}
	wg.Wait()
	sum.Duration = time.Since(start)
	for _, path := range sum.JUnit {
		if s, rerr := junit.ReadFile(path); rerr == nil {
			tally(&sum, s)
		}
	}
	return sum, failed
}

// laneSlots is how many of the lanes run at once: the VM lane shards itself, so one; the
// emulated Pi's lanes as many as VMs allows (each is one QEMU on one host core).
func laneSlots(cfg Config, lanes []Lane) int {
	if cfg.Bench != vocab.BenchVMRPi3 {
		return 1
	}
	n := cfg.VMs
	if n <= 0 {
		n = DefaultVMs()
	}
	return max(1, min(n, len(lanes)))
}

// runLane runs one lane with its output going to its tally.
func runLane(ctx context.Context, l Lane, j Job, t *Tally, con *Console) (int, error) {
	var streams []io.Writer
	j.Stream = func(prefix string) io.Writer {
		s := t.Stream(prefix)
		streams = append(streams, s)
		return s
	}
	j.Stdout, j.Stderr = j.Stream(""), j.Stream("")
	j.Note = func(format string, args ...any) { con.Printf("["+l.Name()+"] "+format, args...) }
	c, err := l.Run(ctx, j)
	flush(streams...)
	return c, err
}

// notRun says why a spec did not run, from what stopped its lane.
func notRun(err error) string {
	if errors.Is(err, context.Canceled) {
		return "not run: the run was cut short: " + err.Error()
	}
	return "not run: " + err.Error()
}

// salvage writes a lane's report from its tally when the lane did not finish: every spec that
// finished, with its verdict, and every other spec of the run as an error saying why.
func salvage(path string, t *Tally, l Lane, specs []string, why string) error {
	t.mu.Lock()
	cases := slices.Clone(t.Cases)
	props := slices.Clone(t.Props)
	t.mu.Unlock()
	done := map[string]bool{}
	for _, c := range cases {
		done[c.Name] = true
	}
	for _, name := range specs {
		if !done[name] {
			cases = append(cases, junit.Case{Name: name, Classname: classOf(name), Time: "0.000", Error: &junit.Message{Message: why, Type: "not-run"}})
		}
	}
	for _, p := range append(l.Props(), junit.Property{Name: "kernel", Value: "unknown: the lane did not finish"}) {
		if !hasProp(props, p.Name) {
			props = append(props, p)
		}
	}
	return junit.WriteFile(path, junit.Build(SuiteName, props, cases, "", time.Since(t.Start).Seconds(), t.Start))
}

// SuiteName is the name of the suites' JUnit test suite.
const SuiteName = "gpiohil suites"

// classOf is the classname of a spec known only by its full name ("persistence libgpiod-v1 ..."),
// as ginkgoreport.Classname gives it from the spec's labels: the suite and the tool are the
// name's first two words (the suites' Describe texts).
func classOf(name string) string {
	w := strings.Fields(name)
	switch {
	case len(w) >= 2 && w[0] == string(vocab.Wiring):
		return junit.ClassnameRoot + "." + w[0]
	case len(w) >= 2 && vocab.Suite(w[0]).Order() < len(vocab.Suites):
		return junit.ClassnameRoot + "." + w[0] + "." + w[1]
	}
	return junit.ClassnameRoot
}

// prepare checks everything that can be checked before a lane starts and returns what every
// lane of the run shares: the suites' run configuration in host paths, their flags, the
// gpiohil binary and the report path.
func prepare(cfg *Config) (Job, error) {
	var job Job
	if _, err := vocab.ParseBench(string(cfg.Bench)); err != nil {
		return job, &InputError{err}
	}
	cfg.JUnit = ReportPath(cfg.JUnit, cfg.Bench)
	junitPath, err := filepath.Abs(cfg.JUnit)
	if err != nil {
		return job, err
	}
	if err := writable(filepath.Dir(junitPath)); err != nil {
		return job, inputf("--junit %s: %v; give a path in a directory you can write", cfg.JUnit, err)
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
	// A malformed or unknown profile, or expectations that do not load or conflict, are
	// reported here, before anything boots.
	profiles, err := profile.Resolve(run.Profiles)
	if err != nil {
		return job, &InputError{err}
	}
	for _, f := range cfg.Expectations {
		abs, err := filepath.Abs(f)
		if err != nil {
			return job, err
		}
		run.Expectations = append(run.Expectations, abs)
	}
	run.OnlyExpect = cfg.OnlyExpect
	run.NoTimeline = cfg.NoTimeline
	if run.OnlyExpect && len(run.Expectations) == 0 {
		return job, inputf("--no-builtin-expectations needs --expectations FILE")
	}
	if _, err := suites.Rules(run, profiles); err != nil {
		return job, &InputError{err}
	}
	if cfg.Bench == vocab.BenchRPi {
		if cfg.Rig == "" {
			return job, inputf("bench rpi needs a rig file (--rig FILE); gpiohil wiring --yaml prints the built-in plan as one")
		}
		if run.Rig, err = filepath.Abs(cfg.Rig); err != nil {
			return job, err
		}
		if _, err := rig.Load(run.Rig); err != nil {
			return job, &InputError{err}
		}
	}
	if cfg.VMs < 0 || cfg.VMs > MaxVMs {
		return job, inputf("--vms %d: at most %d", cfg.VMs, MaxVMs)
	}
	args := []string{"-test.v", "-ginkgo.no-color", "-ginkgo.v"}
	if cfg.LabelFilter != "" {
		args = append(args, "-ginkgo.label-filter="+cfg.LabelFilter)
	}
	return Job{Run: run, Args: args, Self: self, Suites: cfg.Suites, JUnit: junitPath}, nil
}

// ReportPath is where a run on bench writes its report, given --junit: FILE as it is; a
// directory (DIR/, or one that exists) gets suites-BENCH.xml; "" is build/junit/suites-BENCH.xml.
// A bench with several lanes adds each lane's name before .xml (Lane.Report).
func ReportPath(given string, bench vocab.Bench) string {
	name := "suites-" + string(bench) + ".xml"
	if given == "" {
		return filepath.Join("build", "junit", name)
	}
	if st, err := os.Stat(given); strings.HasSuffix(given, "/") || err == nil && st.IsDir() {
		return filepath.Join(given, name)
	}
	return given
}

// writable makes dir and checks that a file can be created in it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".gpiohil-write-check-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
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

// laneError names the lane when the bench has several.
func laneError(lanes []Lane, l Lane, err error) error {
	if len(lanes) > 1 {
		return fmt.Errorf("%s: %w", l.Name(), err)
	}
	return err
}
