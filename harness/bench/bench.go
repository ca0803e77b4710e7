// Package bench is where the pins live: one small interface over gpio-sim, an emulated
// Raspberry Pi and a real board with loopback jumpers.
//
// A Bench finds its lines by chip label and line name, never by chip number; prepares a line
// in a known pre-state and restores it; and observes a line without requesting it (package
// observe). Each bench says what it can see (Can); what it cannot see is reported as unknown.
// Close restores every line the bench touched to input with no bias and removes whatever the
// bench created.
package bench

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Line is one line of a bench.
type Line struct {
	Chip     string // chip label
	ChipName string // e.g. gpiochip3; changes from boot to boot, never configure it
	Dev      string // e.g. /dev/gpiochip3
	Name     string
	Offset   int
}

func (l Line) String() string { return fmt.Sprintf("%s (%s offset %d)", l.Name, l.Chip, l.Offset) }

// State is a pre-state to prepare a line in.
type State struct {
	Direction vocab.Direction
	Value     int        // for outputs
	Bias      vocab.Bias // pull-up, pull-down or disabled: a pre-state says what the pull is
}

// String writes a state the way ParseState reads it, e.g. "input pull-up" or "output high disabled".
func (s State) String() string {
	if s.Direction == vocab.Output {
		return fmt.Sprintf("output %s %s", vocab.ValueWord(s.Value), s.Bias)
	}
	return "input " + string(s.Bias)
}

// ParseState reads "input BIAS" or "output high|low BIAS".
func ParseState(s string) (State, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("state %q: want 'input BIAS' or 'output high|low BIAS', BIAS one of pull-up, pull-down, disabled", s)
	var st State
	switch {
	case len(f) == 2 && f[0] == string(vocab.Input):
		st = State{Direction: vocab.Input, Bias: vocab.Bias(f[1])}
	case len(f) == 3 && f[0] == string(vocab.Output):
		v, err := vocab.ParseValueWord(f[1])
		if err != nil {
			return State{}, bad
		}
		st = State{Direction: vocab.Output, Value: v, Bias: vocab.Bias(f[2])}
	default:
		return State{}, bad
	}
	if _, ok := st.Bias.Pull(); !ok {
		return State{}, bad
	}
	return st, nil
}

// Bench is where the lines under test live.
type Bench interface {
	// Kind says which bench this is, e.g. vocab.KindGPIOSim.
	Kind() vocab.BenchKind
	// Can is what Observe can see.
	Can() vocab.Capabilities
	// Lines lists every line the bench may touch.
	Lines() []Line
	// Line finds a line by name.
	Line(name string) (Line, error)
	// Prepare requests the line in state s and releases it. What survives the release is the
	// bench's platform semantics (gpio-sim keeps the pull, a Pi may keep an output).
	Prepare(l Line, s State) error
	// Restore returns a line to input with no bias, as far as the bench can express it.
	Restore(l Line) error
	// Observe reports the line's state without requesting it.
	Observe(l Line) (observe.Observation, error)
	// Close restores every line the bench touched and removes what it created.
	Close() error
}

// ErrNoLine is returned (wrapped) when a line name is not on the bench.
var ErrNoLine = errors.New("no such line")

// BusyError reports a line that another consumer holds.
type BusyError struct {
	Line     Line
	Consumer string // who holds it, as line info names it; "" when it does not say
}

func (e *BusyError) Error() string {
	who := "an unnamed consumer"
	if e.Consumer != "" {
		who = fmt.Sprintf("%q", e.Consumer)
	}
	return fmt.Sprintf("line %s is busy: held by %s; end that program (or unexport it from /sys/class/gpio) first", e.Line, who)
}
