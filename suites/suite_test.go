package suites_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	wiring "github.com/gpiohil/gpiohil/loopback/check"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/junit/ginkgoreport"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

func TestMain(m *testing.M) {
	runner.MaybeRunParent()
	if run.Bench != "" || run.InVM || sim.HostHasGPIOSim() {
		os.Exit(m.Run())
	}
	os.Exit(vmtest.Main(m, suites.Banks...))
}

func TestSuites(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gpiohil suites")
}

var (
	// The run configuration and the profiles, known when the spec tree is built.
	run, runErr           = runenv.Current()
	profiles, profilesErr = profile.Resolve(run.Profiles)

	// Set up by BeforeSuite.
	b        bench.Bench
	rules    *expect.Rules
	platform observe.Platform
	props    []junit.Property
	// toolProps delivers the tool:NAME properties, found in the background (BeforeSuite).
	toolProps <-chan []junit.Property
	// The line under test and its neighbour, by name on this bench.
	dutName, neighbourName string
)

// infrastructure fails the spec for a reason outside the product: the JUnit report makes it an
// error, not a failure.
func infrastructure(err error) {
	AddReportEntry(junit.InfrastructureEntry, err.Error(), ReportEntryVisibilityNever)
	Fail("infrastructure: " + err.Error())
}

// requireUsable skips the spec when profile p cannot run on this bench, saying why, and makes
// it an infrastructure error when that could not be found out.
func requireUsable(p *profile.Profile) {
	err := trial.Usable(p, b.Kind())
	if errors.Is(err, trial.ErrSkip) {
		Skip(err.Error())
	}
	if err != nil {
		infrastructure(err)
	}
}

var _ = BeforeSuite(func() {
	if runErr != nil {
		infrastructure(runErr)
	}
	var err error
	b, err = suites.OpenBench(run)
	if err != nil {
		infrastructure(err)
	}
	DeferCleanup(func() {
		Expect(b.Close()).To(Succeed(), "restoring every line the suites touched")
		Expect(bench.DisableGPIOTrace()).To(Succeed(), "switching the kernel's gpio trace events off again")
	})
	if rules, err = suites.Rules(run, profiles); err != nil {
		infrastructure(err)
	}
	dutName, neighbourName = suites.LineNames(run, b.Kind())
	dut := line(dutName)
	o, err := b.Observe(dut)
	var unwired *wiring.PairError
	if err != nil && !errors.As(err, &unwired) {
		infrastructure(err)
	}
	// A line under test whose loopback pair failed the wiring check is refused, but the run goes
	// on: the wiring suite gives every pair its row, and every spec on a failed pair is refused
	// with the pair's error. The observation still carries the platform.
	platform = o.Platform
	board := run.Board
	if board == "" {
		board = string(b.Kind())
	}
	props = []junit.Property{
		{Name: "kernel", Value: platform.Kernel}, {Name: "bench", Value: string(b.Kind())},
		{Name: "board", Value: board}, {Name: "driver", Value: platform.Driver},
		{Name: "persist_gpio_outputs", Value: string(platform.Persist)}, {Name: "chip", Value: dut.Chip},
		{Name: "sees", Value: b.Can().String()},
	}
	// Whether each tool is installed, and its version, is asked in the background: starting a
	// Python interpreter for the first time takes a second or more under emulation, and
	// mostly waits on 9p reads meanwhile, so the first specs of other tools run alongside.
	// A spec of a tool waits for its answer (trial.Installed asks once); the report waits for
	// all of them.
	kind := b.Kind()
	done := make(chan []junit.Property, 1)
	toolProps = done
	go func() {
		var tp []junit.Property
		for _, p := range profiles {
			v := "not installed"
			if why := trial.NotForBench(p, kind); why != "" {
				v = "not run: " + why
			} else if ok, why, err := trial.Installed(p); err != nil {
				v = "unknown: " + err.Error()
			} else if !ok {
				v += ": " + why
			} else if ver, err := p.Version(context.Background()); err == nil && ver != "" {
				v = ver
			} else {
				v = "installed"
			}
			tp = append(tp, junit.Property{Name: "tool:" + p.Name, Value: v})
		}
		done <- tp
	}()
	By(fmt.Sprintf("bench %s, kernel %s, driver %s, persist_gpio_outputs %q", b.Kind(), platform.Kernel, platform.Driver, platform.Persist))
})

// specsStarted counts the specs that reached the top-level BeforeEach, in Ginkgo's order, for
// sharding (runenv.Shard).
var specsStarted int

var _ = BeforeEach(func() {
	i := specsStarted
	specsStarted++
	if mine, owner := run.Shard.Owns(i); !mine {
		AddReportEntry(junit.OtherShardEntry, fmt.Sprintf("%d/%d", owner, run.Shard.N), ReportEntryVisibilityNever)
		Skip(fmt.Sprintf("run by shard %d of %d", owner, run.Shard.N))
	}
})

// suiteName is the report's name and every case's classname.
const suiteName = "gpiohil suites"

// progress writes a progress line for gpiohil run, which follows the run by them and keeps
// every finished spec even when the run is cut short (junit.Progress).
func progress(p junit.Progress) { os.Stdout.WriteString(p.Line()) }

var _ = ReportBeforeSuite(func(r Report) {
	progress(junit.Progress{Total: r.PreRunStats.SpecsThatWillRun})
})

var _ = ReportAfterEach(func(spec SpecReport) {
	if c, ok := ginkgoreport.Case(spec); ok {
		progress(junit.Progress{Case: &c})
	}
})

var _ = ReportAfterSuite("JUnit report", func(r Report) {
	for _, spec := range r.SpecReports { // a failed BeforeSuite or AfterSuite: no ReportAfterEach saw it
		if spec.LeafNodeType != types.NodeTypeIt {
			if c, ok := ginkgoreport.Case(spec); ok {
				progress(junit.Progress{Case: &c})
			}
		}
	}
	if toolProps != nil {
		props = append(props, <-toolProps...)
	}
	if len(props) == 0 { // the suite failed before it knew its platform: say what it knows
		props = []junit.Property{{Name: "bench", Value: string(run.Kind())}, {Name: "kernel", Value: "unknown: the suites failed before they opened the bench"}}
		if run.Board != "" {
			props = append(props, junit.Property{Name: "board", Value: run.Board})
		}
	}
	if len(props) > 0 {
		progress(junit.Progress{Props: props})
	}
	if run.JUnit == "" {
		return
	}
	Expect(junit.WriteFile(run.JUnit, ginkgoreport.Convert(r, suiteName, props))).To(Succeed())
})

func line(name string) bench.Line {
	l, err := b.Line(name)
	if err != nil {
		infrastructure(err)
	}
	return l
}

// scenario is one row of the semantics table.
type scenario struct {
	suite   vocab.Suite
	p       *profile.Profile
	action  vocab.Action
	ending  vocab.Ending
	value   int
	bias    vocab.Bias
	pre     bench.State
	whileFn func(bench.Line) // for the ownership suite
	shape   verdict.Shape    // for the timeline suite
}

// name reads like the semantics table and is stable: CI history keys on it.
func (s scenario) name() string {
	what := string(s.action)
	if s.action != vocab.SetInput {
		what += " " + vocab.ValueWord(s.value)
	}
	switch s.shape {
	case verdict.ShapePulse:
		return fmt.Sprintf("pulse: %s, bias %s, ended by %s, from %s", what, s.bias, s.ending, s.pre)
	case verdict.ShapeStartUp:
		return fmt.Sprintf("start-up: %s, bias %s, ended by %s, from %s", what, s.bias, s.ending, s.pre)
	case verdict.ShapeHandover:
		return fmt.Sprintf("handover: %s, bias %s, stopped by sigterm (sigkill after %s), then the same tool again, from %s", what, s.bias, trial.StopGrace, s.pre)
	}
	return fmt.Sprintf("%s, bias %s, ended by %s, from %s", what, s.bias, s.ending, s.pre)
}

func (s scenario) labels() Labels {
	return Label(string(s.suite), "tool:"+s.p.Name, "action:"+string(s.action), "ending:"+s.ending.String())
}

// result is the spec's result before anything ran: what is being asked.
func (s scenario) result() junit.Result {
	e := s.ending
	return junit.Result{Suite: s.suite, Tool: s.p.Name, Scenario: s.name(), Action: s.action, Ending: &e, Value: s.value, Bias: s.bias}
}

// record attaches the structured result that the JUnit report and the semantics matrix read.
func record(r junit.Result) {
	js, _ := json.Marshal(r)
	AddReportEntry(junit.ResultEntry, string(js), ReportEntryVisibilityNever)
}

// check runs one scenario: prepare, run the tool, end it, observe; package verdict judges.
func check(s scenario) {
	res := s.result()
	in := verdict.Input{Case: expect.Case{Tool: s.p.Name, Action: s.action, Ending: s.ending, Value: s.value, Bias: s.bias}, Rules: rules}
	if err := trial.Usable(s.p, b.Kind()); err != nil {
		in.Err = err
		d := verdict.Judge(in)
		conclude(s, res, d, nil, nil) // a skip or an infrastructure error: nothing ran
		return
	}
	dut := line(dutName)
	DeferCleanup(func() {
		Expect(b.Restore(dut)).To(Succeed(), "restoring %s", dut)
	})
	c := trial.Case{Profile: s.p, Action: s.action, Value: s.value, Bias: s.bias, Ending: s.ending, Pre: s.pre,
		Timeline: !run.NoTimeline, Emulated: emulated()}
	if s.whileFn != nil {
		c.WhileHeld = func() { s.whileFn(dut) }
	}
	tr, err := trial.Run(context.Background(), b, dut, c)
	in.Err = err
	if err == nil {
		in.Observed, in.Case.Before = tr.After, tr.Before.Pull
		res.Before, res.Observed, res.Observation, res.Timeline = tr.Before.Pull, tr.After.Summary(), &tr.After, tr.Timeline
		for _, n := range tr.TimelineNotes {
			tr.After.Evidencef("timeline: %s", n)
		}
	}
	d := verdict.Judge(in)
	ran, detail := endState(tr, d)
	conclude(s, res, d, ran, detail)
}

// conclude records a decision and ends the spec the way the decision says: a skip (with the
// reason), an infrastructure error, a failure, or a pass. ran says how the tool ended, detail
// what the observation rests on; both are read only for an unknown or a failure.
func conclude(s scenario, res junit.Result, d verdict.Decision, ran, detail func() string) {
	d.Record(&res)
	record(res)
	switch d.Verdict {
	case vocab.Skipped:
		Skip(d.Reason)
	case vocab.Infrastructure:
		infrastructure(errors.New(d.Reason))
	case vocab.VerdictUnknown:
		Skip(fmt.Sprintf("%s; observed: %s (%s)", d.Reason, res.Observed, detail()))
	case vocab.NotMet:
		Fail(fmt.Sprintf("%s %s on %s (%s): %s\nobserved: %s\nexpected: %s\n%s",
			s.p.Name, s.name(), d.Expectation.Platform, ran(), d.Reason, res.Observed, d.Expected(), detail()))
	case vocab.Met, vocab.MetIndistinct:
	default:
		Fail(fmt.Sprintf("verdict %q has no handling in the suites", d.Verdict))
	}
}

// endState says, for conclude, how an end-state spec's tool ended and what its observation
// rests on.
func endState(tr *trial.Result, d verdict.Decision) (ran, detail func() string) {
	return func() string { return fmt.Sprintf("%s, outcome %s", tr.Run.Status(), d.Expectation.Outcome) },
		func() string { return "evidence: " + strings.Join(tr.After.Evidence, "; ") }
}

// seen guards the uniqueness of full spec names, on which CI history keys.
var seen = map[string]bool{}

func entry(s scenario) TableEntry {
	full := string(s.suite) + " " + s.p.Name + " " + s.name()
	if seen[full] {
		panic("duplicate spec name: " + full)
	}
	seen[full] = true
	return Entry(s.name(), s.labels(), s)
}

// biases are the biases a scenario tries: a pull against the line's pull-down pre-state
// (does the bias stick?), bias disabled, and as-is; an action that takes none of them (sysfs)
// runs with as-is only.
func biases(a *profile.Action) []vocab.Bias {
	var out []vocab.Bias
	for _, want := range []vocab.Bias{vocab.BiasPullUp, vocab.BiasDisabled, vocab.BiasAsIs} {
		for _, sb := range a.SupportsBias {
			if sb == want {
				out = append(out, want)
			}
		}
	}
	return out
}

// endings of an action: by itself, or every way a holding tool can be ended.
func endings(a *profile.Action) []vocab.Ending {
	if !a.Holds {
		return []vocab.Ending{vocab.Exit}
	}
	return []vocab.Ending{vocab.SIGINT, vocab.SIGTERM, vocab.SIGKILL, vocab.ParentDeath}
}

// preDown is the pre-state of every scenario: an input pulled down, so a line that keeps the
// tool's high output, or the tool's pull-up, is told apart from one that went back.
var preDown = bench.State{Direction: vocab.Input, Bias: vocab.BiasPullDown}

// scenarios builds a suite's table for one profile and each of the given actions it has.
func scenarios(suite vocab.Suite, p *profile.Profile, actions ...vocab.Action) []any {
	var entries []any
	{
		for _, name := range actions {
			a := p.Actions[name]
			if a == nil {
				continue
			}
			for _, e := range endings(a) {
				for _, bias := range biases(a) {
					entries = append(entries, entry(scenario{suite: suite, p: p, action: name, ending: e, value: 1, bias: bias, pre: preDown}))
				}
			}
		}
	}
	return entries
}

var _ = Describe("profiles", func() {
	It("load", func() {
		Expect(profilesErr).NotTo(HaveOccurred())
	})
})
