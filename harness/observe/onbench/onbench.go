// Package onbench observes GPIO lines on whichever bench can see them without requesting
// them, and says what that bench cannot see: it is `gpiohil observe`.
//
//	gpiohil observe [--bench auto|gpio-sim|pinctrl|rpi] [--rig FILE] [--json] [CHIP] LINE...
//
// The benches (Bench):
//
//	gpio-sim  a gpio-sim chip: level and pull from its sim attributes, whether a free line is
//	          driven by flipping its sim pull for a moment (bench.GPIOSim)
//	pinctrl   a Raspberry Pi's own chip, driven by pinctrl-bcm2835 (a Pi 0 to 4, or gpiohil's
//	          emulated Pi 3): the pin's function from debugfs, the owner from line info;
//	          level, drive and pull stay unknown (bench.Pinctrl)
//	rpi       a board with a loopback rig (--rig FILE): the electrical state of each line under
//	          test from its partner pin, without the wiring check (loopback.Bench.ObserveUnchecked)
//	auto      the rig's bench when a rig is given, else the one the chip's driver calls for
//
// CHIP is a chip's label (gpiodetect lists them); it may be left out on a Raspberry Pi, whose
// own chip is then taken, and with a rig, which names its chip. The first argument is CHIP
// when a GPIO chip here has that label. Every observation says what its bench can see (Can),
// how each field was found (Evidence) and why each unknown one is unknown (WhyUnknown).
//
// Example, in gpiohil's emulated Pi with persist_gpio_outputs off, after a program that drove
// GPIO17 high exited:
//
//	$ gpiohil observe GPIO17
//	CHIP             LINE    OFFSET  DIRECTION  LEVEL    DRIVE    PULL     OWNER  CONSUMER
//	pinctrl-bcm2835  GPIO17  17      input      unknown  unknown  unknown  free   -
//	...
package onbench

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

// ErrNotHere is matched by the errors that say a chip, a line or a bench that was named is not
// here (or does not fit): the user's input, not the machine's fault.
var ErrNotHere = errors.New("not here")

// BadInput says whether err is about what was named rather than the machine: ErrNotHere, a line
// the bench does not have (bench.ErrNoLine), or one gpiohil refuses to touch (bench.ErrReserved).
func BadInput(err error) bool {
	return errors.Is(err, ErrNotHere) || errors.Is(err, bench.ErrNoLine) || errors.Is(err, bench.ErrReserved)
}

// notHere is an ErrNotHere error with the message format gives.
func notHere(format string, args ...any) error {
	return notHereError{fmt.Sprintf(format, args...)}
}

type notHereError struct{ msg string }

func (e notHereError) Error() string        { return e.msg }
func (e notHereError) Is(target error) bool { return target == ErrNotHere }

// Bench is the bench a user picks to observe with.
type Bench string

// The benches.
const (
	Auto    Bench = "auto"
	GPIOSim Bench = Bench(vocab.KindGPIOSim)
	Pinctrl Bench = "pinctrl"
	Rig     Bench = Bench(vocab.KindRPi)
)

// Benches lists every bench, in the order the help gives them.
var Benches = []Bench{Auto, GPIOSim, Pinctrl, Rig}

// ParseBench reads a bench's name.
func ParseBench(s string) (Bench, error) {
	if slices.Contains(Benches, Bench(s)) {
		return Bench(s), nil
	}
	names := make([]string, len(Benches))
	for i, b := range Benches {
		names[i] = string(b)
	}
	return "", fmt.Errorf("bench %q: want one of %s", s, strings.Join(names, ", "))
}

func (b Bench) String() string { return string(b) }

// Set implements flag.Value.
func (b *Bench) Set(s string) error {
	v, err := ParseBench(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Request is what to observe, and where.
type Request struct {
	Bench Bench    // "" means Auto
	Args  []string // [CHIP] LINE...
	Rig   *rig.Rig // the loopback rig, for Rig (and Auto)
	// Loopback tunes the rig's bench; tests pass the simulated wire as its Settler and a lock
	// directory of their own.
	Loopback loopback.Options
}

// Validate checks the request before anything is opened.
func (r Request) Validate() error {
	b := r.Bench
	if b == "" {
		b = Auto
	}
	if _, err := ParseBench(string(b)); err != nil {
		return err
	}
	switch {
	case r.Rig != nil && b != Auto && b != Rig:
		return fmt.Errorf("--rig goes with --bench %s or %s, not %s", Rig, Auto, b)
	case r.Rig == nil && b == Rig:
		return fmt.Errorf("--bench %s observes from partner pins: it needs the rig file (--rig FILE)", Rig)
	case len(r.Args) == 0:
		return errors.New("no line to observe: name at least one")
	}
	return nil
}

// Observe observes the request's lines on its bench. It never requests a line it observes.
func Observe(r Request) ([]observe.Observation, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var obs []observe.Observation
	var err error
	if r.Rig != nil {
		obs, err = observeRig(r)
	} else {
		obs, err = observeChip(r)
	}
	if err != nil {
		return nil, err
	}
	for i := range obs {
		finish(&obs[i])
	}
	return obs, nil
}

// released are the fields only a watch while a tool runs can see (gpiohil run), never one look.
var released = vocab.See(vocab.FieldReleasedDirection, vocab.FieldReleasedBias)

// finish makes an observation say what one look could see, and why the rest is unknown.
func finish(o *observe.Observation) {
	o.Can &^= released
	o.ExplainUnknown()
}

// chip is a GPIO chip of the running kernel.
type chip struct{ Name, Label, Driver string }

func (c chip) String() string { return fmt.Sprintf("%s [%s] (driver %s)", c.Name, c.Label, c.Driver) }

// listChips lists the kernel's GPIO chips with their labels and drivers, and the first error
// of a chip this process may not open (not root, not in the gpio group).
func listChips() (cs []chip, denied error) {
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name)
		if errors.Is(err, fs.ErrPermission) && denied == nil {
			denied = fmt.Errorf("%w; run as root, or join the group that owns it (usually gpio: sudo usermod -aG gpio $USER, then log in again)", err)
		}
		if err != nil {
			continue
		}
		cs = append(cs, chip{Name: name, Label: c.Label, Driver: observe.ChipDriver(name)})
		c.Close()
	}
	return cs, denied
}

func describeChips(cs []chip) string {
	if len(cs) == 0 {
		return "this kernel has no GPIO chips"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return "chips here: " + strings.Join(s, ", ")
}

// observeChip observes lines of a chip of the running kernel, on the bench its driver calls for.
func observeChip(r Request) ([]observe.Observation, error) {
	cs, denied := listChips()
	c, lines, err := pickChip(r, cs, denied)
	if err != nil {
		return nil, err
	}
	b, err := benchFor(r.Bench, c)
	if err != nil {
		return nil, err
	}
	if b == GPIOSim {
		return bench.ObserveSim(c.Label, lines)
	}
	// gpiohil's agent marks its VMs; pinctrl-bcm2835 in one is the emulated Pi's.
	obs, err := bench.ObservePinctrl(bench.PinctrlConfig{Label: c.Label, Emulated: runenv.InVM()}, lines)
	if errors.Is(err, bench.ErrNoLine) && len(lines) == len(r.Args) && len(lines) > 1 {
		err = fmt.Errorf("%w; if %q was meant as the chip, no chip here has that label (%s)", err, lines[0], describeChips(cs))
	}
	return obs, err
}

// pickChip splits [CHIP] LINE...: the first argument is CHIP when a chip here has that label;
// without one, a Raspberry Pi's own chip is taken. denied is why some chips could not be
// opened, the likely reason when none fits.
func pickChip(r Request, cs []chip, denied error) (chip, []string, error) {
	if i := slices.IndexFunc(cs, func(c chip) bool { return c.Label == r.Args[0] }); i >= 0 {
		if len(r.Args) == 1 {
			return chip{}, nil, notHere("chip %s: no line to observe: name at least one after the chip", r.Args[0])
		}
		return cs[i], r.Args[1:], nil
	}
	if r.Bench != GPIOSim {
		if i := slices.IndexFunc(cs, func(c chip) bool { return c.Driver == bench.BCM2835Driver }); i >= 0 {
			return cs[i], r.Args, nil
		}
	}
	if denied != nil {
		return chip{}, nil, fmt.Errorf("find the chip: %w", denied)
	}
	return chip{}, nil, notHere("no chip named, and no Raspberry Pi chip (driver %s) to take: %q is not the label of a GPIO chip here (%s); name the chip by its label first: gpiohil observe CHIP LINE...", bench.BCM2835Driver, r.Args[0], describeChips(cs))
}

// benchFor is the bench that observes chip c: the one asked for, which must fit c's driver, or
// under Auto the one its driver calls for.
func benchFor(asked Bench, c chip) (Bench, error) {
	var fits Bench
	switch c.Driver {
	case "gpio-sim":
		fits = GPIOSim
	case bench.BCM2835Driver:
		fits = Pinctrl
	}
	switch {
	case fits == "":
		return "", notHere("chip %s: no bench observes this driver's lines without requesting them; gpiohil observes gpio-sim chips, a Raspberry Pi 0 to 4's own chip (pinctrl-bcm2835), and any Raspberry Pi's header with a loopback rig (--rig FILE)", c)
	case asked != "" && asked != Auto && asked != fits:
		return "", notHere("chip %s is not one the %s bench observes: that is the %s bench's; leave --bench out (auto) to let the driver decide", c, asked, fits)
	}
	return fits, nil
}

// rigLines are the lines under test a request names on its rig: [CHIP] LINE..., where CHIP,
// when given, is the rig's.
func (r Request) rigLines(verb string) ([]string, error) {
	lines := r.Args
	if lines[0] == r.Rig.Chip {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return nil, notHere("rig %s: no line to %s: name at least one line under test", r.Rig.File, verb)
	}
	return lines, nil
}

// observeRig observes lines under test of a loopback rig from their partners, without the
// wiring check. CHIP, when given, must be the rig's.
func observeRig(r Request) (obs []observe.Observation, err error) {
	lines, err := r.rigLines("observe")
	if err != nil {
		return nil, err
	}
	b, err := loopback.Open(r.Rig, r.Loopback)
	if err != nil {
		return nil, fmt.Errorf("rig %s: %w", r.Rig.File, err)
	}
	defer func() {
		if cerr := b.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("rig %s: put the partners back: %w", r.Rig.File, cerr))
		}
	}()
	for _, name := range lines {
		l, err := b.Line(name)
		if err != nil {
			return nil, fmt.Errorf("observe %s on rig %s: %w", name, r.Rig.File, err)
		}
		o, err := b.ObserveUnchecked(l)
		if err != nil {
			return nil, err
		}
		for _, n := range b.Notes() {
			o.Evidencef("rig: %s", n)
		}
		obs = append(obs, o)
	}
	return obs, nil
}
