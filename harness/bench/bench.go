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
)

// Kinds of bench.
const (
	KindGPIOSim = "gpio-sim" // gpio-sim on the running kernel (the VM lane or a host that has it)
	KindRPi     = "rpi"      // a Raspberry Pi with loopback jumpers, seen from partner pins (package loopback)
)

// Bias values of a State, as in the kernel's uAPI.
const (
	BiasPullUp   = "pull-up"
	BiasPullDown = "pull-down"
	BiasDisabled = "disabled"
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
	Direction string // observe.Input or observe.Output
	Value     int    // for outputs
	Bias      string // BiasPullUp, BiasPullDown or BiasDisabled
}

// String writes a state the way ParseState reads it, e.g. "input pull-up" or "output high disabled".
func (s State) String() string {
	if s.Direction == observe.Output {
		return fmt.Sprintf("output %s %s", map[int]string{0: "low", 1: "high"}[s.Value], s.Bias)
	}
	return "input " + s.Bias
}

// ParseState reads "input BIAS" or "output high|low BIAS".
func ParseState(s string) (State, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("state %q: want 'input BIAS' or 'output high|low BIAS', BIAS one of pull-up, pull-down, disabled", s)
	var st State
	switch {
	case len(f) == 2 && f[0] == observe.Input:
		st = State{Direction: observe.Input, Bias: f[1]}
	case len(f) == 3 && f[0] == observe.Output && (f[1] == "high" || f[1] == "low"):
		st = State{Direction: observe.Output, Bias: f[2]}
		if f[1] == "high" {
			st.Value = 1
		}
	default:
		return State{}, bad
	}
	switch st.Bias {
	case BiasPullUp, BiasPullDown, BiasDisabled:
		return st, nil
	}
	return State{}, bad
}

// Bench is where the lines under test live.
type Bench interface {
	// Kind says which bench this is, e.g. KindGPIOSim.
	Kind() string
	// Can lists what Observe can see (observe.Can* constants).
	Can() []string
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
