// Package check proves a loopback rig's wiring before anything is tested on it, and says which
// jumper to fix when it is wrong.
//
// # Wiring
//
// Each pair of the rig is a line under test joined by a jumper to its partner (package rig).
// The check holds every line of every pair itself, as inputs, for its whole run.
//
// # Steps
//
//  1. Forced levels, pulls only. Every line is pulled down and read, then pulled up and read.
//     A line that reads 1 under its pull-down, or 0 under its pull-up, is forced: its wire is
//     shorted to 3V3 or GND (both ends forced), or the pin is stuck (one end only). Nothing is
//     ever driven on such a pair.
//  2. Who is joined to whom, pulls only. For each line in turn: every line is pulled down, then
//     let float (bias disabled: the wires keep their charge), then this line is pulled up and
//     every line is read. A line's pull-up raises exactly the lines on its wire. For a good pair that is the line
//     and its partner and nothing else; an open jumper raises nothing; a crossed pair raises
//     another pair's pin instead; a bridge raises the other pair's pins too.
//  3. Drive, each direction, only on pairs that passed: the line drives high against its
//     partner's pull-down and low against its pull-up, then the partner drives the line the
//     same way. The driven end's partner is always held as an input (package safety refuses
//     anything else).
//  4. Calibration: the line under test is held in each state the probe can report (driven
//     high and low, pulled up and down, floating) and the probe measures it from the partner
//     a few times; the patterns it reads are the pair's [probe.Signatures], which make the
//     probe exact wherever this board is (see package probe on mid-rail).
//
// A failed pair's [Result.Err] is a *[PairError] matching [ErrMiswired]: the suites report
// every later spec on that pair as an infrastructure error, not a product failure.
package check

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/probe"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

// Lines is how the check touches the rig; *safety.Interlock implements it.
type Lines interface {
	Input(name string, bias vocab.Bias) error
	Output(name string, value int) error
	Read(name string) (int, error)
}

// Fault is what is wrong with a pair.
type Fault string

// Faults.
const (
	Open        Fault = "open jumper"
	Crossed     Fault = "crossed pairs"
	Bridged     Fault = "bridged pairs"
	ShortGND    Fault = "short to GND"
	Short3V3    Fault = "short to 3V3"
	Stuck       Fault = "stuck pin"
	NoDrive     Fault = "drive does not pass"
	Unavailable Fault = "line unavailable"
	Unexplained Fault = "unexplained reads"
	Failed      Fault = "check failed"
)

// ErrMiswired is matched by the error of every pair that failed the check.
var ErrMiswired = errors.New("loopback rig miswired")

// PairError is a pair that failed the check.
type PairError struct {
	Pair    rig.Pair
	Fault   Fault
	Message string
}

func (e *PairError) Error() string {
	return fmt.Sprintf("pair %s (%s-%s): %s: %s", e.Pair.Name, e.Pair.Line, e.Pair.Partner, e.Fault, e.Message)
}

// Unwrap makes PairError match ErrMiswired.
func (e *PairError) Unwrap() error { return ErrMiswired }

// Result is the check's verdict on one pair.
type Result struct {
	Pair       rig.Pair
	Fault      Fault            // "" when the pair passed
	Message    string           // for a fault: what is wrong and which jumper to fix
	Signatures probe.Signatures // for a pair that passed: what each state reads as on it
	Notes      []string         // things worth knowing that are not faults
}

// OK reports whether the pair passed.
func (r Result) OK() bool { return r.Fault == "" }

// Err returns nil for a pair that passed, else a *PairError.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	return &PairError{Pair: r.Pair, Fault: r.Fault, Message: r.Message}
}

func (r Result) String() string {
	head := fmt.Sprintf("pair %s %s - %s: ", r.Pair.Name, r.Pair.LinePin, r.Pair.PartnerPin)
	if !r.OK() {
		return head + string(r.Fault) + ": " + r.Message
	}
	var sig []string
	for _, c := range probe.Classes {
		var ps []string
		for _, p := range r.Signatures[c] {
			ps = append(ps, string(p))
		}
		sig = append(sig, fmt.Sprintf("%s %s", c, strings.Join(ps, "/")))
	}
	s := head + "ok; reads " + strings.Join(sig, ", ")
	for _, n := range r.Notes {
		s += "; " + n
	}
	return s
}

// Report is the check's verdict on a rig.
type Report struct {
	Results []Result // one per pair, in the rig's order
	Took    time.Duration
}

// OK reports whether every pair passed.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK() {
			return false
		}
	}
	return true
}

// Result returns the result of the pair with this name.
func (r Report) Result(pair string) (Result, bool) {
	for _, res := range r.Results {
		if res.Pair.Name == pair {
			return res, true
		}
	}
	return Result{}, false
}

func (r Report) String() string {
	var b strings.Builder
	for _, res := range r.Results {
		b.WriteString(res.String() + "\n")
	}
	fmt.Fprintf(&b, "wiring check took %v\n", r.Took.Round(time.Millisecond))
	return b.String()
}

// CalibrationRuns is how often the probe measures each state while calibrating: a pattern that
// differs between runs is noted, and every pattern seen is kept in the signature.
const CalibrationRuns = 3

// Options tune a check.
type Options struct {
	// Settler waits for the wire after each change: probe.Sleep(probe.PullSettle) on a board,
	// the simulated wire itself in the VM. Required.
	Settler probe.Settler
	// Unavailable lines (from safety.Preflight) fail their pairs without being touched.
	Unavailable map[string]error
	// CalibrationRuns overrides CalibrationRuns when positive.
	CalibrationRuns int
}

// role is where a line sits in the rig.
type role struct {
	pair    int
	partner bool
}

type checker struct {
	lines  Lines
	pairs  []rig.Pair
	opt    Options
	roles  map[string]role
	res    []Result
	active []string // lines taking part, in rig order
}

func (c *checker) pin(line string) pinRef {
	r := c.roles[line]
	p := c.pairs[r.pair]
	if r.partner {
		return pinRef{line, p.PartnerPin.Number}
	}
	return pinRef{line, p.LinePin.Number}
}

// pinRef names a line and its header pin in messages: "GPIO17 (pin 11)".
type pinRef struct {
	name string
	pin  int
}

func (h pinRef) String() string {
	if h.pin == 0 {
		return h.name
	}
	return fmt.Sprintf("%s (pin %d)", h.name, h.pin)
}

func (c *checker) fail(i int, f Fault, format string, args ...any) {
	if c.res[i].Fault == "" {
		c.res[i].Fault, c.res[i].Message = f, fmt.Sprintf(format, args...)
	}
}

func (c *checker) settle() error { return c.opt.Settler.Settle() }

// readAll reads every line in ls.
func (c *checker) readAll(ls []string) (map[string]int, error) {
	out := map[string]int{}
	for _, l := range ls {
		v, err := c.lines.Read(l)
		if err != nil {
			return nil, err
		}
		out[l] = v
	}
	return out, nil
}

// setAll gives every line in ls the bias, then settles.
func (c *checker) setAll(ls []string, bias vocab.Bias) error {
	for _, l := range ls {
		if err := c.lines.Input(l, bias); err != nil {
			return err
		}
	}
	return c.settle()
}

// Run checks the rig's pairs through lines. It leaves every line it held as an input with bias
// disabled, still held: the caller releases them or keeps the partners.
func Run(lines Lines, pairs []rig.Pair, opt Options) Report {
	start := time.Now()
	c := &checker{lines: lines, pairs: pairs, opt: opt, roles: map[string]role{}, res: make([]Result, len(pairs))}
	if opt.CalibrationRuns <= 0 {
		c.opt.CalibrationRuns = CalibrationRuns
	}
	for i, p := range pairs {
		c.res[i].Pair = p
		c.roles[p.Line], c.roles[p.Partner] = role{pair: i}, role{pair: i, partner: true}
	}
	if opt.Settler == nil {
		for i := range pairs {
			c.fail(i, Failed, "no settler given to the check")
		}
		return Report{Results: c.res, Took: time.Since(start)}
	}
	if err := c.run(); err != nil {
		for i := range pairs {
			c.fail(i, Failed, "the check could not finish: %v", err)
		}
	}
	for _, l := range c.active {
		lines.Input(l, vocab.BiasDisabled)
	}
	return Report{Results: c.res, Took: time.Since(start)}
}

func (c *checker) run() error {
	// Lines refused by the preflight fail their pairs untouched.
	for i, p := range c.pairs {
		for _, l := range []string{p.Line, p.Partner} {
			if err := c.opt.Unavailable[l]; err != nil {
				c.fail(i, Unavailable, "%s: %v", c.pin(l), err)
			}
		}
	}
	// Hold every remaining line as an input with its pull-down.
	for i, p := range c.pairs {
		if !c.res[i].OK() {
			continue
		}
		var held []string
		for _, l := range []string{p.Line, p.Partner} {
			if err := c.lines.Input(l, vocab.BiasPullDown); err != nil {
				c.fail(i, Unavailable, "cannot hold %s as an input: %v", c.pin(l), err)
				break
			}
			held = append(held, l)
		}
		c.active = append(c.active, held...)
		if !c.res[i].OK() {
			for _, l := range held {
				c.lines.Input(l, vocab.BiasDisabled)
			}
		}
	}
	lines := c.lines4(func(i int) bool { return c.res[i].OK() })
	if len(lines) == 0 {
		return nil
	}
	forced, err := c.forced(lines)
	if err != nil {
		return err
	}
	c.judgeForced(forced)
	free := c.lines4(func(i int) bool { return c.res[i].OK() })
	raised, err := c.listen(free)
	if err != nil {
		return err
	}
	c.judgeJoined(free, raised)
	for i := range c.pairs {
		if !c.res[i].OK() {
			continue
		}
		if err := c.drive(i); err != nil {
			return err
		}
		if !c.res[i].OK() {
			continue
		}
		if err := c.calibrate(i); err != nil {
			return err
		}
	}
	return nil
}

// lines4 lists the lines of the pairs that keep returns true for, in rig order.
func (c *checker) lines4(keep func(i int) bool) []string {
	var ls []string
	for i, p := range c.pairs {
		if keep(i) {
			ls = append(ls, p.Line, p.Partner)
		}
	}
	return ls
}

// forced returns the level each forced line is stuck at (step 1).
func (c *checker) forced(lines []string) (map[string]int, error) {
	out := map[string]int{}
	if err := c.setAll(lines, vocab.BiasPullDown); err != nil {
		return nil, err
	}
	down, err := c.readAll(lines)
	if err != nil {
		return nil, err
	}
	if err := c.setAll(lines, vocab.BiasPullUp); err != nil {
		return nil, err
	}
	up, err := c.readAll(lines)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		switch {
		case down[l] == 1 && up[l] == 1:
			out[l] = 1
		case down[l] == 0 && up[l] == 0:
			out[l] = 0
		case down[l] == 1 && up[l] == 0:
			out[l] = -1 // follows the opposite of its pull: nothing physical does that
		}
	}
	return out, c.setAll(lines, vocab.BiasPullDown)
}

var groundPins = "6, 9, 14, 20, 25, 30, 34 or 39"

func (c *checker) judgeForced(forced map[string]int) {
	for i, p := range c.pairs {
		if !c.res[i].OK() {
			continue
		}
		fl, lok := forced[p.Line]
		fp, pok := forced[p.Partner]
		u, q := c.pin(p.Line), c.pin(p.Partner)
		jumper := fmt.Sprintf("the jumper between pins %d and %d", p.LinePin.Number, p.PartnerPin.Number)
		switch {
		case !lok && !pok:
		case lok && pok && fl == 0 && fp == 0:
			c.fail(i, ShortGND, "%s and %s read 0 even while pulled up: their wire is shorted to GND; check that %s does not also touch a ground pin (%s) and that nothing else is connected to them",
				u, q, jumper, groundPins)
		case lok && pok && fl == 1 && fp == 1:
			c.fail(i, Short3V3, "%s and %s read 1 even while pulled down: their wire is tied to 3V3 (pin 1 or 17) or to a fixed pull-up; move %s off the power pin at once (5V on pins 2 and 4 damages a GPIO)",
				u, q, jumper)
		case lok != pok && (fl >= 0 && lok || fp >= 0 && pok):
			stuck, other, lvl := u, q, fl
			if pok {
				stuck, other, lvl = q, u, fp
			}
			c.fail(i, Stuck, "%s reads %d whatever its own pull does, while %s follows its pull: %s is stuck %s (a damaged pin, something else driving it, or a pin not in GPIO mode) and %s cannot be proven; wire this pair to other pins",
				stuck, lvl, other, stuck.name, map[int]string{0: "low", 1: "high"}[lvl], jumper)
		default:
			c.fail(i, Unexplained, "%s and %s read against their own pulls (%s: %d, %s: %d, -1 meaning opposite to the pull): check %s and what else is connected to these pins",
				u, q, u, fl, q, fp, jumper)
		}
	}
}

// listen returns, for each line, the other lines its pull-up raises while they float (step 2).
// Before each line is pulled up, every wire is charged low and let float again, so no wire
// floats for longer than one step: a reconfiguration and a read of every line, a few
// milliseconds on a Pi, while input leakage (typically nA) needs tens of milliseconds to move a
// 30 pF wire by a volt.
func (c *checker) listen(lines []string) (map[string][]string, error) {
	raised := map[string][]string{}
	for _, s := range lines {
		if err := c.setAll(lines, vocab.BiasPullDown); err != nil {
			return nil, err
		}
		if err := c.setAll(lines, vocab.BiasDisabled); err != nil {
			return nil, err
		}
		if err := c.setAll([]string{s}, vocab.BiasPullUp); err != nil {
			return nil, err
		}
		got, err := c.readAll(lines)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l != s && got[l] == 1 {
				raised[s] = append(raised[s], l)
			}
		}
		if got[s] != 1 {
			raised[s] = append(raised[s], "!"+s) // did not follow its own pull-up
		}
	}
	return raised, c.setAll(lines, vocab.BiasPullDown)
}

func (c *checker) names(ls []string) string {
	var s []string
	for _, l := range ls {
		s = append(s, c.pin(l).String())
	}
	return strings.Join(s, ", ")
}

// whose describes a line of another pair: "GPIO22 (pin 15), the partner of pair B".
func (c *checker) whose(l string) string {
	r := c.roles[l]
	what := "the line under test"
	if r.partner {
		what = "the partner"
	}
	return fmt.Sprintf("%s, %s of pair %s", c.pin(l), what, c.pairs[r.pair].Name)
}

func (c *checker) judgeJoined(lines []string, raised map[string][]string) {
	for i, p := range c.pairs {
		if !c.res[i].OK() {
			continue
		}
		u, q := c.pin(p.Line), c.pin(p.Partner)
		jumper := fmt.Sprintf("the jumper between pins %d and %d", p.LinePin.Number, p.PartnerPin.Number)
		ru, rp := raised[p.Line], raised[p.Partner]
		if slices.Contains(ru, "!"+p.Line) || slices.Contains(rp, "!"+p.Partner) {
			c.fail(i, Unexplained, "%s or %s did not follow its own pull-up while every other line floated low; check %s", u, q, jumper)
			continue
		}
		extra := map[string]bool{}
		for _, l := range append(slices.Clone(ru), rp...) {
			if l != p.Line && l != p.Partner {
				extra[l] = true
			}
		}
		others := slices.Sorted(maps.Keys(extra))
		sort.SliceStable(others, func(a, b int) bool { return slices.Index(lines, others[a]) < slices.Index(lines, others[b]) })
		uJoined, pJoined := slices.Contains(ru, p.Partner), slices.Contains(rp, p.Line)
		otherPairs := func() string {
			seen := map[string]bool{}
			var names []string
			for _, l := range others {
				n := c.pairs[c.roles[l].pair].Name
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
			return strings.Join(names, ", ")
		}
		switch {
		case uJoined && pJoined && len(others) == 0:
			// Good so far.
		case uJoined && pJoined:
			c.fail(i, Bridged, "pair %s is bridged to pair %s: pulling %s up also raised %s; remove whatever joins them (a stray jumper, a wire touching two pins, a solder bridge)",
				p.Name, otherPairs(), u, c.names(others))
		case !uJoined && !pJoined && len(others) == 0:
			c.fail(i, Open, "%s did not follow %s pulled up, nor the other way round: %s is missing or does not make contact; fit a %s",
				q, u, jumper, p.Jumper().Fit())
		case !uJoined && !pJoined:
			var desc []string
			for _, l := range []string{p.Line, p.Partner} {
				var to []string
				for _, x := range raised[l] {
					if x != p.Line && x != p.Partner {
						to = append(to, c.whose(x))
					}
				}
				if len(to) > 0 {
					desc = append(desc, fmt.Sprintf("%s is joined to %s", c.pin(l), strings.Join(to, " and ")))
				}
			}
			c.fail(i, Crossed, "pair %s is crossed with pair %s: %s, not to each other; fit the jumpers so pin %d joins pin %d",
				p.Name, otherPairs(), strings.Join(desc, "; "), p.LinePin.Number, p.PartnerPin.Number)
		default:
			c.fail(i, Unexplained, "%s raised %s but %s raised %s: a connection that passes a pull one way only; check %s",
				u, c.names(ru), q, c.names(rp), jumper)
		}
	}
}

// drive is step 3 for pair i: each end drives both levels against the other's opposite pull.
func (c *checker) drive(i int) error {
	p := c.pairs[i]
	for _, dir := range []struct{ from, to string }{{p.Line, p.Partner}, {p.Partner, p.Line}} {
		for _, v := range []int{1, 0} {
			against := vocab.BiasPullDown
			if v == 0 {
				against = vocab.BiasPullUp
			}
			if err := c.lines.Input(dir.to, against); err != nil {
				return err
			}
			if err := c.lines.Output(dir.from, v); err != nil {
				return err
			}
			if err := c.settle(); err != nil {
				return err
			}
			got, err := c.lines.Read(dir.to)
			if err != nil {
				return err
			}
			if got != v {
				c.fail(i, NoDrive, "%s read %d while %s drove %d against its %s: the jumper passes a pull but not a drive; is the series resistor far above 1 kΩ, or is %s not in GPIO mode?",
					c.pin(dir.to), got, c.pin(dir.from), v, against, dir.from)
			}
		}
		if err := c.lines.Input(dir.from, vocab.BiasDisabled); err != nil {
			return err
		}
		if err := c.lines.Input(dir.to, vocab.BiasDisabled); err != nil {
			return err
		}
		if !c.res[i].OK() {
			return nil
		}
	}
	return nil
}

// partner adapts Lines to probe.Partner for one line.
type partner struct {
	lines Lines
	name  string
}

func (p partner) Input(bias vocab.Bias) error { return p.lines.Input(p.name, bias) }
func (p partner) Read() (int, error)          { return p.lines.Read(p.name) }

// Partner returns the probe's view of a partner line held through lines.
func Partner(lines Lines, name string) probe.Partner { return partner{lines, name} }

// calibrate is step 4 for pair i.
func (c *checker) calibrate(i int) error {
	p := c.pairs[i]
	sig := probe.Signatures{}
	theory := probe.Theory(p.FixedPullUp())
	states := []struct {
		class probe.Class
		set   func() error
	}{
		{probe.DrivenHigh, func() error { return c.lines.Output(p.Line, 1) }},
		{probe.DrivenLow, func() error { return c.lines.Output(p.Line, 0) }},
		{probe.PulledUp, func() error { return c.lines.Input(p.Line, vocab.BiasPullUp) }},
		{probe.PulledDown, func() error { return c.lines.Input(p.Line, vocab.BiasPullDown) }},
		{probe.Floating, func() error { return c.lines.Input(p.Line, vocab.BiasDisabled) }},
	}
	for _, st := range states {
		if err := c.lines.Input(p.Partner, vocab.BiasDisabled); err != nil {
			return err
		}
		if err := st.set(); err != nil {
			return err
		}
		if err := c.settle(); err != nil {
			return err
		}
		for range c.opt.CalibrationRuns {
			r, err := probe.Measure(Partner(c.lines, p.Partner), c.opt.Settler)
			if err != nil {
				return err
			}
			if pt := r.Pattern(); !slices.Contains(sig[st.class], pt) {
				sig[st.class] = append(sig[st.class], pt)
			}
		}
		if len(sig[st.class]) > 1 {
			c.res[i].Notes = append(c.res[i].Notes, fmt.Sprintf("%s reads differently from run to run (%v)", st.class, sig[st.class]))
		}
		for _, pt := range sig[st.class] {
			if !slices.Contains(theory[st.class], pt) {
				c.res[i].Notes = append(c.res[i].Notes, fmt.Sprintf("%s reads %s, which theory does not expect (%v)", st.class, pt, theory[st.class]))
			}
		}
	}
	if err := c.lines.Input(p.Line, vocab.BiasDisabled); err != nil {
		return err
	}
	c.res[i].Signatures = sig
	// Say which states this pair cannot tell apart, once, for the report.
	seen := map[probe.Pattern][]string{}
	for _, cl := range probe.Classes {
		for _, pt := range sig[cl] {
			seen[pt] = append(seen[pt], string(cl))
		}
	}
	for _, pt := range slices.Sorted(maps.Keys(seen)) {
		if len(seen[pt]) > 1 {
			c.res[i].Notes = append(c.res[i].Notes, fmt.Sprintf("%s look alike from the partner here (both read %s)", strings.Join(seen[pt], " and "), pt))
		}
	}
	return nil
}
