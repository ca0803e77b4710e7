// Package probe tells what a pin is doing from its loopback partner alone: driven high, driven
// low, pulled up, pulled down or floating, without ever requesting the pin itself.
//
// # Wiring
//
// The pin under test and its partner are two header pins joined by a jumper. The partner is
// held by gpiohil as an input; the pin under test belongs to whatever tool is being tested.
// The partner is never driven: it only switches its own internal pull (about 50 kΩ on a Pi)
// and reads.
//
// # The reads
//
// [Measure] makes five reads from the partner, in this order, waiting for the wire to settle
// ([Settler]) after each change of the partner's bias:
//
//	as found    bias disabled, before anything: the level the wire has now
//	up          the partner's pull-up on
//	after up    bias disabled again: a floating wire keeps the charge the pull-up left
//	down        the partner's pull-down on
//	after down  bias disabled again
//
// Then it puts the wire back at the level it found (pulling toward it and releasing), so a
// floating pin is left as it was. The four reads after "as found" form a [Pattern], written in
// that order, e.g. "1101".
//
// # What each state reads
//
//	driven high   1111   a driver beats any pull
//	driven low    0000
//	pulled up     11M1   M: the partner's pull-down against the pin's pull-up sits mid-rail
//	pulled down   M000   M: the same, the other way round
//	floating      1100   charge retention: the wire keeps the level the last pull left
//
// Mid-rail (two ~50 kΩ pulls against each other hold the wire near half of 3V3) is not a
// defined logic level: a board may read it as 0, as 1, or keep the previous level (an input
// with hysteresis). So from these reads alone "pulled up" may look exactly like "driven high",
// and "pulled down" like "driven low". [Classify] reports such reads as ambiguous, naming
// every class that fits, never guessing. The wiring check measures how each pair really reads
// every state (it holds the pin under test in each state itself) and hands the result to the
// probe as [Signatures]; with those the probe is exact wherever the board itself is. A pin
// with a fixed pull-up (GPIO2 and GPIO3 carry 1.8 kΩ on every 40-pin Pi) reads 1111 unless
// driven low: pulled, floating and driven high cannot be told apart there, and the probe says
// so.
//
// # Settle times
//
// [PullSettle] is the wait on a real board; the simulated wire (package wire) settles by
// processing the kernel's line-info events instead, and implements Settler itself.
package probe

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Class is the electrical state of a pin, as seen from its partner.
type Class string

// The classes.
const (
	DrivenHigh Class = "driven high"
	DrivenLow  Class = "driven low"
	PulledUp   Class = "pulled up"
	PulledDown Class = "pulled down"
	Floating   Class = "floating"
)

// Classes lists every class, in report order.
var Classes = []Class{DrivenHigh, DrivenLow, PulledUp, PulledDown, Floating}

// Level is the level the class holds the wire at; unknown for floating.
func (c Class) Level() vocab.Level {
	switch c {
	case DrivenHigh, PulledUp:
		return vocab.High
	case DrivenLow, PulledDown:
		return vocab.Low
	}
	return vocab.LevelUnknown
}

// Driven reports whether the class is a driven one.
func (c Class) Driven() bool { return c == DrivenHigh || c == DrivenLow }

// Drive is what sets the pin's level in this class.
func (c Class) Drive() vocab.Drive {
	switch {
	case c.Driven():
		return vocab.Driven
	case c == Floating:
		return vocab.Floating
	}
	return vocab.Pulled
}

// Pull is the pin's pull in this class; unknown for a driven pin (the drive hides it).
func (c Class) Pull() vocab.Pull {
	switch c {
	case PulledUp:
		return vocab.PullUp
	case PulledDown:
		return vocab.PullDown
	case Floating:
		return vocab.PullNone
	}
	return vocab.PullUnknown
}

// Direction is output for a driven class, input otherwise.
func (c Class) Direction() vocab.Direction {
	if c.Driven() {
		return vocab.Output
	}
	return vocab.Input
}

// Pattern is the four reads after "as found", in the order up, after up, down, after down:
// "1101".
type Pattern string

// Reads are the partner's five reads.
type Reads struct {
	AsFound, Up, AfterUp, Down, AfterDown int
}

// Pattern returns the reads that classify.
func (r Reads) Pattern() Pattern {
	return Pattern(fmt.Sprintf("%d%d%d%d", r.Up, r.AfterUp, r.Down, r.AfterDown))
}

func (r Reads) String() string {
	return fmt.Sprintf("as found %d, pull-up %d, released %d, pull-down %d, released %d", r.AsFound, r.Up, r.AfterUp, r.Down, r.AfterDown)
}

// Signatures are the patterns each class can read as on one pair.
type Signatures map[Class][]Pattern

// Theory returns the patterns each class reads as when nothing is known about how the board
// reads mid-rail: both 0 and 1 are allowed there. With fixedPullUp (GPIO2 or GPIO3 in the
// pair) every state but driven low reads 1111.
func Theory(fixedPullUp bool) Signatures {
	if fixedPullUp {
		return Signatures{DrivenHigh: {"1111"}, DrivenLow: {"0000"}, PulledUp: {"1111"}, PulledDown: {"1111"}, Floating: {"1111"}}
	}
	return Signatures{
		DrivenHigh: {"1111"},
		DrivenLow:  {"0000"},
		PulledUp:   {"1101", "1111"},
		PulledDown: {"0000", "1000"},
		Floating:   {"1100"},
	}
}

// Result is what the probe found.
type Result struct {
	Reads      Reads
	Pattern    Pattern
	Class      Class   // the class, when exactly one fits; "" otherwise
	Candidates []Class // every class whose signature has Pattern, in the order of Classes
	Why        string  // one sentence for reports
}

// Ambiguous reports whether several classes fit the reads.
func (r Result) Ambiguous() bool { return len(r.Candidates) > 1 }

// Unexplained reports whether no class fits: the pin changed during the probe, or the wiring
// is not what the check found.
func (r Result) Unexplained() bool { return len(r.Candidates) == 0 }

// Classify finds the classes whose signatures include the reads' pattern.
func Classify(r Reads, sig Signatures) Result {
	res := Result{Reads: r, Pattern: r.Pattern()}
	for _, c := range Classes {
		if slices.Contains(sig[c], res.Pattern) {
			res.Candidates = append(res.Candidates, c)
		}
	}
	switch len(res.Candidates) {
	case 0:
		res.Why = fmt.Sprintf("reads %s (%s) fit no state: the pin changed while it was probed, or the wiring changed since the check", res.Pattern, r)
	case 1:
		res.Class = res.Candidates[0]
		res.Why = fmt.Sprintf("reads %s (%s): %s", res.Pattern, r, res.Class)
	default:
		names := make([]string, len(res.Candidates))
		for i, c := range res.Candidates {
			names[i] = string(c)
		}
		res.Why = fmt.Sprintf("reads %s (%s) fit %s alike on this pair: ambiguous", res.Pattern, r, strings.Join(names, " and "))
		if res.Pattern == "1111" || res.Pattern == "0000" {
			res.Why += " (a pull against the partner's opposite pull sits mid-rail and reads like a driven level here)"
		}
	}
	return res
}

// Partner is the partner pin, held by the harness as an input.
type Partner interface {
	// Input reconfigures the partner as an input with bias vocab.BiasPullUp, vocab.BiasPullDown
	// or vocab.BiasDisabled.
	Input(bias vocab.Bias) error
	// Read returns the partner's level, 0 or 1.
	Read() (int, error)
}

// Settler waits until the wire has followed a change of the partner's bias.
type Settler interface {
	Settle() error
}

// PullSettle is how long the partner waits after changing its bias on a real board. The Pi's
// internal pulls are 50 to 65 kΩ; a jumper and two pads are a few tens of pF, so the wire
// settles with a time constant of one to three microseconds. 100 µs is more than thirty time
// constants, yet small beside the 0.1 to 0.5 ms that one reconfiguration of a line costs on a
// Pi. A floating wire keeps its charge far longer than that: input leakage is typically nA,
// which moves a 30 pF wire by about 33 mV per millisecond.
const PullSettle = 100 * time.Microsecond

// Sleep is a Settler that waits a fixed time: PullSettle on a real board.
type Sleep time.Duration

// Settle implements Settler.
func (s Sleep) Settle() error {
	time.Sleep(time.Duration(s))
	return nil
}

// step sets the partner's bias, settles and reads.
func step(p Partner, s Settler, bias vocab.Bias) (int, error) {
	if err := p.Input(bias); err != nil {
		return 0, err
	}
	if err := s.Settle(); err != nil {
		return 0, err
	}
	return p.Read()
}

// Measure makes the five reads and leaves the partner as an input with bias disabled and a
// floating wire at the level it was found at.
func Measure(p Partner, s Settler) (Reads, error) {
	var r Reads
	var err error
	for _, st := range []struct {
		bias vocab.Bias
		into *int
	}{
		{vocab.BiasDisabled, &r.AsFound},
		{vocab.BiasPullUp, &r.Up},
		{vocab.BiasDisabled, &r.AfterUp},
		{vocab.BiasPullDown, &r.Down},
		{vocab.BiasDisabled, &r.AfterDown},
	} {
		if *st.into, err = step(p, s, st.bias); err != nil {
			return r, err
		}
	}
	if r.AsFound != r.AfterDown {
		// Put a floating wire back at its level: pull toward it, then let go.
		bias := vocab.BiasPullDown
		if r.AsFound == 1 {
			bias = vocab.BiasPullUp
		}
		if _, err := step(p, s, bias); err != nil {
			return r, err
		}
		if err := p.Input(vocab.BiasDisabled); err != nil {
			return r, err
		}
		if err := s.Settle(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Probe measures and classifies.
func Probe(p Partner, s Settler, sig Signatures) (Result, error) {
	r, err := Measure(p, s)
	if err != nil {
		return Result{Reads: r}, err
	}
	return Classify(r, sig), nil
}
