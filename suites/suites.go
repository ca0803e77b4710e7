// Package suites holds gpiohil's Ginkgo suites: for every tool profile and every way a program
// can end, what state the GPIO lines are in afterwards on this platform, checked against the
// expectations in package expect and judged by package verdict.
//
// The specs live in this package's test files and run as a test binary: inside the gpio-sim
// VM (`go test ./suites` boots it through harness/vmtest), on a host with gpio-sim, or wherever
// `gpiohil run` starts the precompiled binary. What they run on is their run configuration,
// runenv.Run, which whoever starts them writes into their environment (package runenv lists
// the variables); this package turns it into a bench, line names and a rig.
//
// Suites: persistence (set a line, end the tool, observe), cleanup (the tool's cleanup leaves
// an input and touches nothing else), ownership (a held line is busy, and named), and wiring
// (a loopback rig's jumpers, on a board).
package suites

import (
	"errors"
	"fmt"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/suites/expect"
)

// Line names the suites use on gpio-sim.
const (
	DUT       = "dut"       // the line under test
	Neighbour = "neighbour" // a line prepared differently, which cleanup must not touch
)

// LineNames returns the line under test and its neighbour on a bench of the given kind, unless
// the run names them.
func LineNames(run runenv.Run, kind vocab.BenchKind) (dut, neighbour string) {
	dut, neighbour = DUT, Neighbour
	if kind != vocab.KindGPIOSim {
		// Header pins 11 and 13 on every 40-pin Pi: free of boot-time functions.
		dut, neighbour = "GPIO17", "GPIO27"
	}
	if run.DUT != "" {
		dut = run.DUT
	}
	if run.Neighbour != "" {
		neighbour = run.Neighbour
	}
	return dut, neighbour
}

// Rig loads the run's rig file, or returns nil when it names none.
func Rig(run runenv.Run) (*rig.Rig, error) {
	if run.Rig == "" {
		return nil, nil
	}
	return rig.Load(run.Rig)
}

// Banks are the gpio-sim chips the suites need.
var Banks = []sim.Bank{{Label: "gpiohil-suite", Lines: []string{DUT, Neighbour, "spare"}}}

// Rules returns the run's expectations: the built-in ones (unless the run says only its
// files), each of the run's files added, and what each profile expects of its own tool: its
// expect: block, or, for a tool nothing else knows, what its promises say. A conflict between
// any two of them is an error naming both.
func Rules(run runenv.Run, profiles []*profile.Profile) (*expect.Rules, error) {
	r := &expect.Rules{}
	if !run.OnlyExpect {
		var err error
		if r, err = expect.Builtin(); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, f := range run.Expectations {
		o, err := expect.Load(f)
		if err != nil {
			return nil, err
		}
		if r.File == "" {
			r = o
			continue
		}
		errs = append(errs, r.Merge(o))
	}
	for _, p := range profiles {
		switch _, known := r.Tools[p.Name]; {
		case p.Expect != nil:
			errs = append(errs, r.AddTool(p.Name, p.File, p.Expect))
		case !known:
			errs = append(errs, r.AddTool(p.Name, p.File+" (its promises)", p.PromisedOutcomes()))
		}
	}
	return r, errors.Join(errs...)
}

// OpenBench opens the bench the run names: on gpio-sim the chips created for it (the VM's
// agent makes them), or Banks created on the running kernel.
func OpenBench(run runenv.Run) (bench.Bench, error) {
	switch kind := run.Kind(); kind {
	case vocab.KindGPIOSim:
		if run.Sim != "" {
			chips, err := sim.Parse(run.Sim)
			if err != nil {
				return nil, err
			}
			return bench.AttachGPIOSim(chips), nil
		}
		return bench.NewGPIOSim(Banks)
	case vocab.KindVMRPi3:
		return bench.NewEmulatedPi()
	case vocab.KindRPi:
		r, err := Rig(run)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fmt.Errorf("bench %s needs a rig file (%s; see docs/hardware.md)", kind, runenv.EnvRig)
		}
		b, err := loopback.Open(r, loopback.Options{})
		if err != nil {
			return nil, err
		}
		// The wiring check runs before anything else; a pair that fails it refuses every later
		// operation with its *check.PairError (an infrastructure error).
		b.Check()
		return b, nil
	default:
		return nil, fmt.Errorf("bench kind %q unknown; want %s", kind, vocab.OneOf(vocab.BenchKinds))
	}
}
