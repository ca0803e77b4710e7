package loopback

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/check"
	"github.com/gpiohil/gpiohil/loopback/header"
	"github.com/gpiohil/gpiohil/loopback/probe"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

// ErrNotChecked is returned by Prepare and Observe before the wiring check has run: nothing is
// driven on a rig whose jumpers have not been proven with pulls.
var ErrNotChecked = errors.New("the rig's wiring has not been checked yet; run the wiring check first")

// Options tune a Bench.
type Options struct {
	// Settler waits for the wire after each change of a partner's bias; default
	// probe.Sleep(probe.PullSettle), right for a board. The VM lane passes the simulated wire.
	Settler probe.Settler
	// LockDir holds the board lock; default safety.DefaultLockDir.
	LockDir string
	// DebugFS is where debugfs is mounted, for the pin-function preflight; default safety.DebugFS.
	DebugFS string
}

// Bench is a Raspberry Pi with loopback jumpers: a harness/bench.Bench of kind "rpi".
type Bench struct {
	rig      *rig.Rig
	opt      Options
	chip     *gpiocdev.Chip
	chipName string
	lock     *safety.Lock
	il       *safety.Interlock
	offsets  map[string]int
	bad      map[string]error // lines the preflight refused
	notes    []string

	mu      sync.Mutex
	report  *check.Report
	results map[string]check.Result // by line under test
	plat    *observe.Platform
	closed  bool
}

// findChip opens the chip with the given label.
func findChip(label string) (*gpiocdev.Chip, error) {
	var seen []string
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name, gpiocdev.WithConsumer(bench.Consumer))
		if err != nil {
			if errors.Is(err, os.ErrPermission) {
				return nil, fmt.Errorf("open /dev/%s: %w; add yourself to the gpio group (sudo usermod -aG gpio $USER, then log in again) or run as root", name, err)
			}
			continue
		}
		if c.Label == label {
			return c, nil
		}
		seen = append(seen, fmt.Sprintf("%s [%s]", name, c.Label))
		c.Close()
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no GPIO chip labelled %q: this kernel has no GPIO chips (or none readable)", label)
	}
	return nil, fmt.Errorf("no GPIO chip labelled %q; chips here: %s; set chip: in the rig file", label, strings.Join(seen, ", "))
}

// Open takes the board lock, finds the rig's chip and lines, and runs the preflight (lines in
// use, pins muxed away from GPIO). It requests no line: the wiring check is next.
func Open(r *rig.Rig, opt Options) (*Bench, error) {
	if opt.Settler == nil {
		opt.Settler = probe.Sleep(probe.PullSettle)
	}
	if opt.DebugFS == "" {
		opt.DebugFS = safety.DebugFS
	}
	lock, err := safety.LockBoard(opt.LockDir, r.Chip)
	if err != nil {
		return nil, err
	}
	chip, err := findChip(r.Chip)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	b := &Bench{rig: r, opt: opt, chip: chip, chipName: chip.Name, lock: lock, offsets: map[string]int{}, results: map[string]check.Result{}}
	for _, name := range r.MayTouch {
		off, err := chip.FindLine(name)
		if err != nil {
			// Raspberry Pi device trees name some header lines after their other use
			// (SPI_MOSI, ID_SDA); on every Pi's header chip the offset is the BCM number.
			pin, ok := header.ByName(name)
			if !ok || pin.GPIO >= chip.Lines() {
				chip.Close()
				lock.Unlock()
				return nil, fmt.Errorf("rig %s: no line %s on chip %s (%s)", r.File, name, r.Chip, chip.Name)
			}
			off = pin.GPIO
			info, _ := chip.LineInfo(off)
			b.notes = append(b.notes, fmt.Sprintf("%s is not a line name on %s; using offset %d, the BCM number (the chip calls it %q)", name, r.Chip, off, info.Name))
		}
		b.offsets[name] = off
	}
	var bad []string
	b.bad, bad = safety.Preflight(chip, r.Chip, b.offsets, opt.DebugFS)
	b.notes = append(b.notes, bad...)
	allowed := map[string]int{}
	for n, off := range b.offsets {
		if b.bad[n] == nil {
			allowed[n] = off
		}
	}
	var pairs [][2]string
	for _, p := range r.Pairs {
		pairs = append(pairs, [2]string{p.Line, p.Partner})
	}
	b.il = safety.New(safety.Config{Chip: chip, Label: r.Chip, Lines: allowed, Pairs: pairs})
	return b, nil
}

// Rig returns the bench's rig.
func (b *Bench) Rig() *rig.Rig { return b.rig }

// Notes are things the bench could not check or had to assume, for the run's log.
func (b *Bench) Notes() []string { return b.notes }

// Interlock returns the bench's safety interlock, through which every request goes.
func (b *Bench) Interlock() *safety.Interlock { return b.il }

// Check runs the wiring check (package check) on every pair and remembers the verdict: pairs
// that failed refuse every later operation with their *check.PairError. The partners of the
// pairs that passed stay held as inputs with bias disabled; every line under test is released
// as an input with bias disabled.
func (b *Bench) Check() check.Report {
	rep := check.Run(b.il, b.rig.Pairs, check.Options{Settler: b.opt.Settler, Unavailable: b.bad})
	b.mu.Lock()
	b.report = &rep
	for _, res := range rep.Results {
		b.results[res.Pair.Line] = res
	}
	b.mu.Unlock()
	for _, res := range rep.Results {
		if res.OK() {
			b.il.Release(res.Pair.Line)
			continue
		}
		b.il.Release(res.Pair.Line)
		b.il.Release(res.Pair.Partner)
	}
	return rep
}

// Report returns the last wiring check's report, if it has run.
func (b *Bench) Report() (check.Report, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.report == nil {
		return check.Report{}, false
	}
	return *b.report, true
}

// PairErr says whether specs may run on a line under test: nil when its pair passed the
// check, else ErrNotChecked or the pair's *check.PairError.
func (b *Bench) PairErr(line string) (check.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.report == nil {
		return check.Result{}, fmt.Errorf("line %s: %w", line, ErrNotChecked)
	}
	res, ok := b.results[line]
	if !ok {
		return check.Result{}, fmt.Errorf("line %s is not a line under test of rig %s", line, b.rig.File)
	}
	return res, res.Err()
}

// Kind implements bench.Bench.
func (b *Bench) Kind() vocab.BenchKind { return vocab.KindRPi }

// Can implements bench.Bench: the electrical state, from the partner, and the owner, from
// line info.
func (b *Bench) Can() vocab.Capabilities {
	return vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner,
		vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
}

func (b *Bench) benchLine(name string) bench.Line {
	return bench.Line{Chip: b.rig.Chip, ChipName: b.chipName, Dev: "/dev/" + b.chipName, Name: name, Offset: b.offsets[name]}
}

// Lines implements bench.Bench: the lines under test, one per pair. Partners are not lines a
// spec may run on.
func (b *Bench) Lines() []bench.Line {
	var ls []bench.Line
	for _, p := range b.rig.Pairs {
		ls = append(ls, b.benchLine(p.Line))
	}
	return ls
}

// Line implements bench.Bench.
func (b *Bench) Line(name string) (bench.Line, error) {
	for _, p := range b.rig.Pairs {
		switch name {
		case p.Line:
			return b.benchLine(name), nil
		case p.Partner:
			return bench.Line{}, &safety.RefusedError{Op: "test on", Line: name,
				Reason: fmt.Sprintf("it is the partner of %s in pair %s; a tool run on a partner could drive both ends of the jumper; specs run on the lines under test", p.Line, p.Name)}
		}
	}
	var under []string
	for _, p := range b.rig.Pairs {
		under = append(under, p.Line)
	}
	return bench.Line{}, fmt.Errorf("bench %s: %w: %q is in no pair of rig %s (lines under test: %s)", b.Kind(), bench.ErrNoLine, name, b.rig.File, strings.Join(under, ", "))
}

func (b *Bench) pairOf(l bench.Line) (rig.Pair, error) {
	if _, err := b.Line(l.Name); err != nil {
		return rig.Pair{}, err
	}
	if _, err := b.PairErr(l.Name); err != nil {
		return rig.Pair{}, err
	}
	p, _ := b.rig.PairOf(l.Name)
	return p, nil
}

// Guard makes the line ready for a tool under test: its partner held as an input with bias
// disabled, the line itself not held by gpiohil. Prepare does it; call it before starting a
// tool on a line that was not just prepared.
func (b *Bench) Guard(l bench.Line) error {
	if _, err := b.pairOf(l); err != nil {
		return err
	}
	return b.il.GuardPartner(l.Name)
}

// Prepare implements bench.Bench: the partner is held as an input with bias disabled first,
// then the line is requested in state s and released, and the wire settles.
func (b *Bench) Prepare(l bench.Line, s bench.State) error {
	if _, err := b.pairOf(l); err != nil {
		return fmt.Errorf("prepare %s as %s: %w", l, s, err)
	}
	if err := b.il.GuardPartner(l.Name); err != nil {
		return fmt.Errorf("prepare %s as %s: %w", l, s, err)
	}
	if err := b.il.Apply(l.Name, s); err != nil {
		return fmt.Errorf("prepare %s as %s: %w", l, s, err)
	}
	return b.opt.Settler.Settle()
}

// Restore implements bench.Bench: the line is requested as an input with bias disabled and
// released; its partner stays held as an input with bias disabled.
func (b *Bench) Restore(l bench.Line) error {
	p, err := b.pairOf(l)
	if err != nil {
		return fmt.Errorf("restore %s: %w", l, err)
	}
	if err := b.il.Restore(l.Name); err != nil {
		return err
	}
	return b.il.Input(p.Partner, vocab.BiasDisabled)
}

// Probe measures the line from its partner and classifies it with the pair's calibrated
// signatures. The line is never requested.
func (b *Bench) Probe(l bench.Line) (probe.Result, error) {
	p, err := b.pairOf(l)
	if err != nil {
		return probe.Result{}, err
	}
	res, _ := b.PairErr(l.Name)
	if err := b.il.Input(p.Partner, vocab.BiasDisabled); err != nil {
		return probe.Result{}, err
	}
	return probe.Probe(check.Partner(b.il, p.Partner), b.opt.Settler, res.Signatures)
}

// Observe implements bench.Bench with the partner probe and line info.
func (b *Bench) Observe(l bench.Line) (observe.Observation, error) {
	o := observe.New(l.Chip, l.Name, l.Offset, b.Can(), b.platform())
	p, err := b.pairOf(l)
	if err != nil {
		return o, err
	}
	info, err := b.chip.LineInfo(l.Offset)
	if err != nil {
		return o, fmt.Errorf("line info of %s: %w", l, err)
	}
	bench.RecordOwner(&o, info, "a tool that writes GPIO registers directly, like RPi.GPIO or pigpio, never shows here")
	res, err := b.Probe(l)
	if err != nil {
		return o, err
	}
	Fill(&o, res, p.Partner)
	return o, nil
}

// ObserveUnchecked observes l from its partner without the wiring check, for `gpiohil
// observe`: the check requests l, and observing must not. Only the partner is requested, as an
// input, and only its own pull switches. The probe classifies with probe.Theory, not with the
// signatures the check measures on this pair, so a field the fitting states disagree on stays
// Unknown; and since an open jumper reads like a floating pin, a floating read settles nothing.
// WhyUnknown says which and why. Close releases the partner as an input with bias disabled,
// as a run leaves it.
func (b *Bench) ObserveUnchecked(l bench.Line) (observe.Observation, error) {
	o := observe.New(l.Chip, l.Name, l.Offset, b.Can(), b.platform())
	if _, err := b.Line(l.Name); err != nil {
		return o, err
	}
	p, _ := b.rig.PairOf(l.Name)
	if err := b.bad[p.Partner]; err != nil {
		return o, fmt.Errorf("observe %s from its partner %s: %w", l.Name, p.Partner, err)
	}
	info, err := b.chip.LineInfo(l.Offset)
	if err != nil {
		return o, fmt.Errorf("line info of %s: %w", l, err)
	}
	bench.RecordOwner(&o, info, "a tool that writes GPIO registers directly, like RPi.GPIO or pigpio, never shows here")
	if err := b.bad[l.Name]; err != nil && !info.Used {
		o.Evidencef("preflight: %v", err) // muxed away from GPIO: the partner still sees the wire
	}
	if err := b.il.Input(p.Partner, vocab.BiasDisabled); err != nil {
		return o, fmt.Errorf("observe %s: hold its partner %s as an input: %w", l.Name, p.Partner, err)
	}
	res, err := probe.Probe(check.Partner(b.il, p.Partner), b.opt.Settler, probe.Theory(p.FixedPullUp()))
	if err != nil {
		return o, fmt.Errorf("observe %s from its partner %s: %w", l.Name, p.Partner, err)
	}
	Fill(&o, res, p.Partner)
	explainUnchecked(&o, res)
	return o, nil
}

// explainUnchecked says why the fields of an unchecked observation are unknown, and unsettles
// what only a floating pin would explain: an open jumper reads the same.
func explainUnchecked(o *observe.Observation, res probe.Result) {
	electrical := []vocab.Field{vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull}
	if slices.Contains(res.Candidates, probe.Floating) {
		o.Direction, o.Level, o.Drive, o.Pull = vocab.DirectionUnknown, vocab.LevelUnknown, vocab.DriveUnknown, vocab.PullUnknown
		o.Evidencef("an open jumper reads as a floating pin does; only the wiring check tells them apart")
		for _, f := range electrical {
			o.Unknownf(f, "reads %s fit a floating pin and an open jumper alike; only the wiring check (gpiohil run) tells them apart, and it requests the line", res.Pattern)
		}
		return
	}
	driven := len(res.Candidates) > 0 && !slices.ContainsFunc(res.Candidates, func(c probe.Class) bool { return !c.Driven() })
	for _, f := range electrical {
		switch {
		case o.Value(f) != observe.Unknown:
		case f == vocab.FieldPull && driven:
			o.Unknownf(f, "a driven pin hides its own pull from the partner")
		default:
			o.Unknownf(f, "%s; observe classifies by theory, as only the wiring check, which requests the line, measures how this pair reads", res.Why)
		}
	}
}

// agree is the value f gives every candidate class, or unknown when they differ or there are none.
func agree[T comparable](cs []probe.Class, f func(probe.Class) T, unknown T) T {
	if len(cs) == 0 {
		return unknown
	}
	v := f(cs[0])
	for _, c := range cs[1:] {
		if f(c) != v {
			return unknown
		}
	}
	return v
}

// Fill sets an observation's electrical fields from a probe result: each field is the value
// every candidate class agrees on, else Unknown.
func Fill(o *observe.Observation, res probe.Result, partner string) {
	o.Level = agree(res.Candidates, probe.Class.Level, vocab.LevelUnknown)
	o.Drive = agree(res.Candidates, probe.Class.Drive, vocab.DriveUnknown)
	o.Pull = agree(res.Candidates, probe.Class.Pull, vocab.PullUnknown)
	o.Direction = agree(res.Candidates, probe.Class.Direction, vocab.DirectionUnknown)
	o.Evidencef("partner %s: %s", partner, res.Why)
	if o.Direction != observe.Unknown {
		o.Evidencef("direction is electrical: a driven pin has its output driver on, a pulled or floating one has not")
	}
	if len(res.Candidates) == 1 && res.Class == probe.Floating {
		o.Evidencef("floating: the wire held %d from before the probe (charge retention), a level nothing maintains", res.Reads.AsFound)
	}
}

// rp1Persist is the Pi 5 pin controller's persist_gpio_outputs parameter.
const rp1Persist = "/sys/module/pinctrl_rp1/parameters/persist_gpio_outputs"

func (b *Bench) platform() observe.Platform {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.plat == nil {
		p := observe.ReadPlatform(vocab.KindRPi, b.chipName)
		if p.Persist == "" {
			if v, err := os.ReadFile(rp1Persist); err == nil {
				p.Persist = vocab.ParsePersist(string(v))
			}
		}
		b.plat = &p
	}
	return *b.plat
}

// Close implements bench.Bench: every line the bench touched is returned to input with bias
// disabled and released, the chip is closed and the board lock released. It is idempotent and
// safe to call from any goroutine at any time, a signal handler's included.
func (b *Bench) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	err := b.il.RestoreAll()
	b.chip.Close()
	return errors.Join(err, b.lock.Unlock())
}

// Shutdown is Close, by the name a signal handler reads best.
func (b *Bench) Shutdown() error { return b.Close() }

var _ bench.Bench = (*Bench)(nil)
