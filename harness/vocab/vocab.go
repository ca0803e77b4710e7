// Package vocab is gpiohil's vocabulary as types: the words that tool profiles, expectations,
// observations, JUnit reports and the semantics matrix share. Each word is defined here once;
// every other package uses these types, so the compiler checks every use.
//
// The types are strings or small integers whose text is exactly the word used in the YAML
// files, JUnit properties, spec names and reports ("pull-up", "sigterm", "not met"), so
// reports written before these types existed still read. Every string type has a list of its
// values and a Parse function whose error names the word and the values it could have been;
// the types that appear on command lines are flag.Values.
//
// Two kinds of word look alike and are kept apart on purpose:
//
//   - a Bias is what a program asks for when it requests a line (as-is, disabled, pull-up,
//     pull-down); a Pull is what a line has (pull-up, pull-down, none). "disabled" asks for
//     none; "as-is" asks for nothing.
//   - a Bench is what a user picks with gpiohil run --bench (auto, vm, gpio-sim, vm-rpi3, rpi);
//     a BenchKind is where the lines of a running suite live (gpio-sim, vm-rpi3, rpi): the vm
//     bench is gpio-sim inside gpiohil's own VM.
package vocab

import (
	"fmt"
	"slices"
	"strings"
)

// Unknown is the text of every observed value a bench cannot see.
const Unknown = "unknown"

// Bias is the bias a program requests a line with.
type Bias string

// The biases.
const (
	BiasAsIs     Bias = "as-is"     // leave whatever pull the line has
	BiasDisabled Bias = "disabled"  // turn the pull off
	BiasPullUp   Bias = "pull-up"   // pull the line up
	BiasPullDown Bias = "pull-down" // pull the line down
	BiasUnknown  Bias = Unknown     // not one a program asks for: a bias nothing saw
)

// Biases lists every bias, in the order reports show them.
var Biases = []Bias{BiasAsIs, BiasDisabled, BiasPullUp, BiasPullDown}

// Pull is the pull a line has: what a bias leaves behind.
type Pull string

// The pulls.
const (
	PullUp      Pull = "pull-up"
	PullDown    Pull = "pull-down"
	PullNone    Pull = "none"
	PullUnknown Pull = Unknown
)

// Pulls lists every known pull.
var Pulls = []Pull{PullUp, PullDown, PullNone}

// Pull is the pull this bias sets; ok is false for as-is, which sets none.
func (b Bias) Pull() (p Pull, ok bool) {
	switch b {
	case BiasPullUp:
		return PullUp, true
	case BiasPullDown:
		return PullDown, true
	case BiasDisabled:
		return PullNone, true
	}
	return PullUnknown, false
}

// Bias is the bias that asks for this pull (pull-up, pull-down, disabled for none).
func (p Pull) Bias() (b Bias, ok bool) {
	switch p {
	case PullUp:
		return BiasPullUp, true
	case PullDown:
		return BiasPullDown, true
	case PullNone:
		return BiasDisabled, true
	}
	return BiasAsIs, false
}

// Opposite is pull-down for pull-up and pull-up for anything else.
func (p Pull) Opposite() Pull {
	if p == PullUp {
		return PullDown
	}
	return PullUp
}

// Level is what a pulled line settles at: high for pull-up, low for pull-down, unknown for
// none (a floating line has no level to expect).
func (p Pull) Level() Level {
	switch p {
	case PullUp:
		return High
	case PullDown:
		return Low
	}
	return LevelUnknown
}

// Direction is whether a line is an input or an output.
type Direction string

// The directions.
const (
	Input            Direction = "input"
	Output           Direction = "output"
	DirectionUnknown Direction = Unknown
	// NotReleased is the released direction of a line no request gave back while a tool ran:
	// still held (a sysfs export), or never requested (a tool that writes the registers).
	NotReleased Direction = "none"
)

// Directions lists both directions.
var Directions = []Direction{Output, Input}

// Level is a line's logical level as the kernel reports it: "0" or "1".
type Level string

// The levels.
const (
	Low          Level = "0"
	High         Level = "1"
	LevelUnknown Level = Unknown
)

// LevelOf is Low for 0 and High for anything else.
func LevelOf(v int) Level {
	if v == 0 {
		return Low
	}
	return High
}

// Word is "low" or "high", as spec names and states spell a level; "" when unknown.
func (l Level) Word() string {
	switch l {
	case Low:
		return "low"
	case High:
		return "high"
	}
	return ""
}

// ValueWord is "low" for 0 and "high" for anything else.
func ValueWord(v int) string { return LevelOf(v).Word() }

// ParseValueWord reads "low" or "high" as 0 or 1.
func ParseValueWord(s string) (int, error) {
	switch s {
	case "low":
		return 0, nil
	case "high":
		return 1, nil
	}
	return 0, fmt.Errorf("level %q: want low or high", s)
}

// Drive is what sets a line's level.
type Drive string

// The drives.
const (
	Driven       Drive = "driven"   // an output drives it
	Pulled       Drive = "pulled"   // not driven; a pull resistor (or gpio-sim's simulated pull) sets it
	Floating     Drive = "floating" // not driven and not pulled
	DriveUnknown Drive = Unknown
)

// Drives lists every known drive.
var Drives = []Drive{Driven, Pulled, Floating}

// DriveOf is the drive of an undriven line with pull p: floating without a pull, else pulled.
func DriveOf(p Pull) Drive {
	if p == PullNone {
		return Floating
	}
	return Pulled
}

// Owner is whether a line is requested.
type Owner string

// The owners.
const (
	Used         Owner = "used" // requested by a process, or exported (the kernel holds it)
	Free         Owner = "free"
	OwnerUnknown Owner = Unknown
)

// Owners lists both owners.
var Owners = []Owner{Used, Free}

// Action is one of the standard things a tool profile makes a tool do (package profile says
// what each one does).
type Action string

// The actions.
const (
	SetOutput   Action = "set-output"
	SetInput    Action = "set-input"
	Cleanup     Action = "cleanup"
	Hold        Action = "hold"
	HoldCleanup Action = "hold-cleanup"
	Crash       Action = "crash"
)

// Actions lists every action, in the order reports show them.
var Actions = []Action{SetOutput, SetInput, Cleanup, Hold, HoldCleanup, Crash}

// Outcome is what a tool's process leaves behind once it is gone, in the kernel's terms:
// expectations say, per tool, action and ending, which outcome follows, and per platform what
// a line in that outcome is observed as (package expect).
type Outcome string

// The outcomes; suites/expect/expectations.yaml describes each.
const (
	ReleasedOutput       Outcome = "released-output"
	ReleasedInput        Outcome = "released-input"
	ReleasedInputNoBias  Outcome = "released-input-no-bias"
	ExportedOutput       Outcome = "exported-output"
	ExportedInput        Outcome = "exported-input"
	UnmanagedOutput      Outcome = "unmanaged-output"
	UnmanagedInput       Outcome = "unmanaged-input"
	UnmanagedInputNoPull Outcome = "unmanaged-input-no-pull"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{ReleasedOutput, ReleasedInput, ReleasedInputNoBias, ExportedOutput, ExportedInput,
	UnmanagedOutput, UnmanagedInput, UnmanagedInputNoPull}

// Suite is one of gpiohil's Ginkgo suites.
type Suite string

// The suites, in report order.
const (
	Persistence   Suite = "persistence" // set a line, end the tool, observe
	CleanupSuite  Suite = "cleanup"     // the tool's cleanup leaves an input and touches nothing else
	Ownership     Suite = "ownership"   // a held line is busy, and named
	Wiring        Suite = "wiring"      // a loopback rig's jumpers
	TimelineSuite Suite = "timeline"    // what the line did between a tool's start and the observation: pulses, handovers
)

// Suites lists the suites, in report order.
var Suites = []Suite{Persistence, CleanupSuite, Ownership, TimelineSuite, Wiring}

// Order is the suite's place in reports; unknown suites come last.
func (s Suite) Order() int {
	if i := slices.Index(Suites, s); i >= 0 {
		return i
	}
	return len(Suites)
}

// Verdict is what the suites conclude for one spec.
type Verdict string

// The verdicts.
const (
	Met Verdict = "met" // the observation met the expectation
	// MetIndistinct is met, but on this bench the tool's outcome looks exactly like another
	// one (gpio-sim cannot show "no pull"; the emulated Pi sees no pulls): not evidence.
	MetIndistinct  Verdict = "met, not distinguishable"
	NotMet         Verdict = "not met"        // it did not: a product finding
	VerdictUnknown Verdict = Unknown          // no known expectation, or the bench sees none of its fields: recorded, never passed
	Skipped        Verdict = "skipped"        // the spec cannot run here (tool not installed, action unsupported)
	Infrastructure Verdict = "infrastructure" // the bench, a tool that hung, a miswired rig: not the product's fault
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{Met, MetIndistinct, NotMet, VerdictUnknown, Skipped, Infrastructure}

// Persist is the setting of a Raspberry Pi pinctrl driver's persist_gpio_outputs parameter.
type Persist string

// The settings.
const (
	PersistOn    Persist = "Y"
	PersistOff   Persist = "N"
	PersistUnset Persist = "" // the driver has no such parameter
)

// ParsePersist reads a module parameter's value (Y, N, 1, 0, true, false) as a Persist;
// anything else is PersistUnset.
func ParsePersist(v string) Persist {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "Y", "1", "TRUE":
		return PersistOn
	case "N", "0", "FALSE":
		return PersistOff
	}
	return PersistUnset
}

// Word is "persist on", "persist off" or "".
func (p Persist) Word() string {
	switch p {
	case PersistOn:
		return "persist on"
	case PersistOff:
		return "persist off"
	}
	return ""
}

// parse returns s as a T when it is one of valid, else an error naming what and the choices.
func parse[T ~string](what, s string, valid []T) (T, error) {
	if slices.Contains(valid, T(s)) {
		return T(s), nil
	}
	return "", fmt.Errorf("%s %q unknown; want %s", what, s, OneOf(valid))
}

// SetWord stores s in *v when it is one of valid: the body of a flag.Value's Set, whose caller
// says which flag and which value were wrong.
func SetWord[T ~string](v *T, s string, valid []T) error {
	if !slices.Contains(valid, T(s)) {
		return fmt.Errorf("want %s", OneOf(valid))
	}
	*v = T(s)
	return nil
}

// OneOf spells choices as "a, b or c".
func OneOf[T ~string](valid []T) string {
	s := make([]string, len(valid))
	for i, v := range valid {
		s[i] = string(v)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Strings turns a list of words into strings.
func Strings[T ~string](xs []T) []string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return s
}

// ParseBias reads a bias.
func ParseBias(s string) (Bias, error) { return parse("bias", s, Biases) }

// ParsePull reads a pull.
func ParsePull(s string) (Pull, error) { return parse("pull", s, append(Pulls, PullUnknown)) }

// ParseDirection reads a direction.
func ParseDirection(s string) (Direction, error) { return parse("direction", s, Directions) }

// ParseAction reads an action.
func ParseAction(s string) (Action, error) { return parse("action", s, Actions) }

// ParseOutcome reads an outcome.
func ParseOutcome(s string) (Outcome, error) { return parse("outcome", s, Outcomes) }

// ParseVerdict reads a verdict.
func ParseVerdict(s string) (Verdict, error) { return parse("verdict", s, Verdicts) }

// String and Set make Bias and Direction flag.Values that accept only their words.
func (b Bias) String() string { return string(b) }

// Set implements flag.Value; the flag package names the flag and the value in its message.
func (b *Bias) Set(s string) error { return SetWord(b, s, Biases) }

func (d Direction) String() string { return string(d) }

// Set implements flag.Value.
func (d *Direction) Set(s string) error { return SetWord(d, s, Directions) }

func (p Pull) String() string    { return string(p) }
func (l Level) String() string   { return string(l) }
func (d Drive) String() string   { return string(d) }
func (o Owner) String() string   { return string(o) }
func (a Action) String() string  { return string(a) }
func (o Outcome) String() string { return string(o) }
func (s Suite) String() string   { return string(s) }
func (v Verdict) String() string { return string(v) }
func (p Persist) String() string { return string(p) }

// Words turns a list of words of any kind (Endings too) into strings.
func Words[T fmt.Stringer](xs []T) []string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return s
}
