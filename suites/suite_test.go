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
	. "github.com/onsi/gomega"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/junit/ginkgoreport"
)

func TestMain(m *testing.M) {
	runner.MaybeRunParent()
	if os.Getenv(suites.EnvBench) != "" || vmtest.HostHasGPIOSim() {
		os.Exit(m.Run())
	}
	os.Exit(vmtest.Main(m, suites.Banks...))
}

func TestSuites(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gpiohil suites")
}

var (
	// Set up by BeforeSuite.
	b        bench.Bench
	rules    *expect.Rules
	platform observe.Platform
	props    []junit.Property
	// toolProps delivers the tool:NAME properties, found in the background (BeforeSuite).
	toolProps <-chan []junit.Property
	// The line under test and its neighbour, by name on this bench.
	dutName, neighbourName string

	// Known when the spec tree is built.
	profiles, profilesErr = suites.Profiles()
)

var _ = BeforeSuite(func() {
	var err error
	b, err = suites.OpenBench()
	if err != nil {
		Fail(junit.Infrastructure + err.Error())
	}
	DeferCleanup(func() {
		Expect(b.Close()).To(Succeed(), "restoring every line the suites touched")
	})
	if f := os.Getenv(suites.EnvExpectations); f != "" {
		rules, err = expect.Load(f)
	} else {
		rules, err = expect.Builtin()
	}
	Expect(err).NotTo(HaveOccurred())
	dutName, neighbourName = suites.LineNames(b.Kind())
	dut := line(dutName)
	o, err := b.Observe(dut)
	if err != nil {
		Fail(junit.Infrastructure + err.Error())
	}
	platform = o.Platform
	board := os.Getenv(suites.EnvBoard)
	if board == "" {
		board = b.Kind()
	}
	props = []junit.Property{
		{Name: "kernel", Value: platform.Kernel}, {Name: "bench", Value: b.Kind()},
		{Name: "board", Value: board}, {Name: "driver", Value: platform.Driver},
		{Name: "persist_gpio_outputs", Value: platform.Persist}, {Name: "chip", Value: dut.Chip},
		{Name: "sees", Value: strings.Join(b.Can(), ",")},
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
			} else if ok, why := trial.Installed(p); !ok {
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
// sharding (suites.Shard).
var specsStarted int

var _ = BeforeEach(func() {
	k, n, err := suites.Shard()
	if err != nil {
		Fail(junit.Infrastructure + err.Error())
	}
	i := specsStarted
	specsStarted++
	if owner := i%n + 1; owner != k {
		Skip(fmt.Sprintf("%s%d of %d", junit.OtherShard, owner, n))
	}
})

var _ = ReportAfterSuite("JUnit report", func(r Report) {
	path := os.Getenv(suites.EnvJUnit)
	if path == "" {
		return
	}
	if toolProps != nil {
		props = append(props, <-toolProps...)
	}
	Expect(junit.WriteFile(path, ginkgoreport.Convert(r, "gpiohil suites", props))).To(Succeed())
})

func line(name string) bench.Line {
	l, err := b.Line(name)
	if err != nil {
		Fail(junit.Infrastructure + err.Error())
	}
	return l
}

// scenario is one row of the semantics table.
type scenario struct {
	suite   string
	p       *profile.Profile
	action  profile.ActionName
	ending  runner.Ending
	value   int
	bias    profile.Bias
	pre     bench.State
	whileFn func(bench.Line) // for the ownership suite
}

func (s scenario) endingName() string { return strings.ToLower(s.ending.String()) }

// name reads like the semantics table and is stable: CI history keys on it.
func (s scenario) name() string {
	what := string(s.action)
	if s.action != profile.SetInput {
		what += " " + map[int]string{0: "low", 1: "high"}[s.value]
	}
	return fmt.Sprintf("%s, bias %s, ended by %s, from %s", what, s.bias, s.endingName(), s.pre)
}

func (s scenario) labels() Labels {
	return Label(s.suite, "tool:"+s.p.Name, "action:"+string(s.action), "ending:"+s.endingName())
}

// record attaches the structured result that the JUnit report and the semantics matrix read.
func record(r junit.Result) {
	js, _ := json.Marshal(r)
	AddReportEntry(junit.ResultEntry, string(js), ReportEntryVisibilityNever)
}

// check runs one scenario: prepare, run the tool, end it, observe, compare.
func check(s scenario) {
	res := junit.Result{Suite: s.suite, Tool: s.p.Name, Scenario: s.name()}
	if ok, why := trial.Usable(s.p, b.Kind()); !ok {
		res.Verdict, res.Note = "skipped", why
		record(res)
		Skip(why)
	}
	dut := line(dutName)
	DeferCleanup(func() {
		Expect(b.Restore(dut)).To(Succeed(), "restoring %s", dut)
	})
	c := trial.Case{Profile: s.p, Action: s.action, Value: s.value, Bias: s.bias, Ending: s.ending, Pre: s.pre}
	if s.whileFn != nil {
		c.WhileHeld = func() { s.whileFn(dut) }
	}
	tr, err := trial.Run(context.Background(), b, dut, c)
	if errors.Is(err, trial.ErrSkip) {
		res.Verdict, res.Note = "skipped", err.Error()
		record(res)
		Skip(err.Error())
	}
	if err != nil {
		Fail(junit.Infrastructure + err.Error())
	}
	res.Observed = tr.After.State()
	ec := expect.Case{Tool: s.p.Name, Action: string(s.action), Ending: s.endingName(), Value: s.value, Bias: string(s.bias), Before: tr.Before.Pull}
	exp, err := rules.For(ec, platform)
	if errors.Is(err, expect.ErrUnknown) {
		res.Verdict, res.Note = "unknown", err.Error()
		record(res)
		Skip(fmt.Sprintf("%v; observed: %s (evidence: %s)", err, res.Observed, strings.Join(tr.After.Evidence, "; ")))
	}
	Expect(err).NotTo(HaveOccurred())
	res.Expected = exp.String()
	mismatches, unchecked := exp.Check(tr.After)
	if len(unchecked) > 0 {
		res.Note = "not visible on this bench: " + strings.Join(unchecked, ", ")
	}
	if len(unchecked) == len(exp.Fields) {
		res.Verdict = "unknown"
		record(res)
		Skip(fmt.Sprintf("bench %s sees none of the expected fields (%s)", b.Kind(), exp))
	}
	res.Verdict = "met"
	if len(mismatches) > 0 {
		res.Verdict = "not met"
	}
	record(res)
	Expect(mismatches).To(BeEmpty(), "%s %s on %s (%s, outcome %s)\nobserved: %s\nexpected: %s\nevidence: %s",
		s.p.Name, s.name(), exp.Platform, tr.Run.Status(), exp.Outcome, res.Observed, exp, strings.Join(tr.After.Evidence, "; "))
}

// seen guards the uniqueness of full spec names, on which CI history keys.
var seen = map[string]bool{}

func entry(s scenario) TableEntry {
	full := s.suite + " " + s.p.Name + " " + s.name()
	if seen[full] {
		panic("duplicate spec name: " + full)
	}
	seen[full] = true
	return Entry(s.name(), s.labels(), s)
}

// biases are the biases a scenario tries: a pull against the line's pull-down pre-state
// (does the bias stick?), bias disabled, and as-is; an action that takes none of them (sysfs)
// runs with as-is only.
func biases(a *profile.Action) []profile.Bias {
	var out []profile.Bias
	for _, want := range []profile.Bias{profile.PullUp, profile.Disabled, profile.AsIs} {
		for _, sb := range a.SupportsBias {
			if sb == want {
				out = append(out, want)
			}
		}
	}
	return out
}

// endings of an action: by itself, or every way a holding tool can be ended.
func endings(a *profile.Action) []runner.Ending {
	if !a.Holds {
		return []runner.Ending{runner.Exit}
	}
	return []runner.Ending{runner.SIGINT, runner.SIGTERM, runner.SIGKILL, runner.ParentDeath}
}

// preDown is the pre-state of every scenario: an input pulled down, so a line that keeps the
// tool's high output, or the tool's pull-up, is told apart from one that went back.
var preDown = bench.State{Direction: observe.Input, Bias: bench.BiasPullDown}

// scenarios builds a suite's table for one profile and each of the given actions it has.
func scenarios(suite string, p *profile.Profile, actions ...profile.ActionName) []any {
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
