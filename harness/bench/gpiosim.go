package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Consumer is the consumer name the harness requests lines with, so line info and busy
// errors name it.
const Consumer = "gpiohil"

// GPIOSim is the bench on gpio-sim chips of the running kernel.
//
// What it can see: the line's level (the sim "value" attribute), the simulated pull ("pull"),
// whether the line is driven (while requested from line info; when free by briefly flipping
// the simulated pull and watching whether the value follows, then putting it back), and who
// holds it; how a tool's request gave the line back comes from the kernel's line-info events
// while the tool ran (package trial's watch), the one witness of a cleanup here. gpio-sim
// cannot simulate a floating line: an undriven line always follows its simulated pull, and
// "bias disabled" leaves that pull as it was.
type GPIOSim struct {
	chips   []sim.Chip
	created *sim.Sim // non-nil when this bench created the chips and must remove them

	mu      sync.Mutex
	open    map[string]*gpiocdev.Chip
	touched map[Line]bool
	plat    map[string]observe.Platform
}

// NewGPIOSim creates the banks as gpio-sim chips on the running kernel (root, configfs and
// gpio-sim needed) and returns a bench over them; Close removes them.
func NewGPIOSim(banks []sim.Bank) (*GPIOSim, error) {
	s, err := sim.Create(banks)
	if err != nil {
		return nil, err
	}
	b := AttachGPIOSim(s.Chips())
	b.created = s
	return b, nil
}

// AttachGPIOSim returns a bench over chips that already exist, such as those `gpiohil vm run
// --sim` created (sim.FromEnv).
func AttachGPIOSim(chips []sim.Chip) *GPIOSim {
	return &GPIOSim{chips: chips, open: map[string]*gpiocdev.Chip{}, touched: map[Line]bool{}, plat: map[string]observe.Platform{}}
}

// GPIOSimFromEnv is AttachGPIOSim over the chips `gpiohil vm run --sim` created (sim.FromEnv).
func GPIOSimFromEnv() (*GPIOSim, error) {
	chips, err := sim.FromEnv()
	if err != nil {
		return nil, err
	}
	return AttachGPIOSim(chips), nil
}

// Kind implements Bench.
func (b *GPIOSim) Kind() vocab.BenchKind { return vocab.KindGPIOSim }

// Can implements Bench.
func (b *GPIOSim) Can() vocab.Capabilities {
	return vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner,
		vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
}

// Lines implements Bench.
func (b *GPIOSim) Lines() []Line {
	var ls []Line
	for _, c := range b.chips {
		for i, n := range c.Lines {
			ls = append(ls, Line{Chip: c.Label, ChipName: c.Name, Dev: c.Dev, Name: n, Offset: i})
		}
	}
	return ls
}

// Line implements Bench.
func (b *GPIOSim) Line(name string) (Line, error) {
	for _, l := range b.Lines() {
		if l.Name == name {
			return l, nil
		}
	}
	var labels []string
	for _, c := range b.chips {
		labels = append(labels, c.Label)
	}
	return Line{}, fmt.Errorf("bench %s: %w: %q is on none of the chips %s", b.Kind(), ErrNoLine, name, strings.Join(labels, ", "))
}

func (b *GPIOSim) simChip(l Line) (sim.Chip, error) {
	c, err := sim.Find(b.chips, l.Chip)
	if err != nil {
		return c, fmt.Errorf("bench %s: %w", b.Kind(), err)
	}
	return c, nil
}

// chip returns an open handle on the line's chip. Opening a chip does not touch its lines.
func (b *GPIOSim) chip(l Line) (*gpiocdev.Chip, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.open[l.ChipName]; ok {
		return c, nil
	}
	c, err := gpiocdev.NewChip(l.ChipName, gpiocdev.WithConsumer(Consumer))
	if err != nil {
		return nil, chipError(l, err)
	}
	b.open[l.ChipName] = c
	return c, nil
}

func chipError(l Line, err error) error {
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return fmt.Errorf("open %s (chip %s): %w; run as root or join the group that owns it (usually gpio)", l.Dev, l.Chip, err)
	}
	if errors.Is(err, unix.ENOENT) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open %s (chip %s): %w; the chip is gone", l.Dev, l.Chip, err)
	}
	return fmt.Errorf("open %s (chip %s): %w", l.Dev, l.Chip, err)
}

// request requests l with opts and releases it at once, naming the holder when it is busy.
func (b *GPIOSim) request(l Line, opts ...gpiocdev.LineReqOption) error {
	c, err := b.chip(l)
	if err != nil {
		return err
	}
	return requestOnce(c, l, opts...)
}

// BiasOption is the go-gpiocdev request option for a pull-up, pull-down or disabled bias.
func BiasOption(bias vocab.Bias) (gpiocdev.LineBias, error) {
	switch bias {
	case vocab.BiasPullUp:
		return gpiocdev.WithPullUp, nil
	case vocab.BiasPullDown:
		return gpiocdev.WithPullDown, nil
	case vocab.BiasDisabled:
		return gpiocdev.WithBiasDisabled, nil
	}
	return 0, fmt.Errorf("bias %q: want pull-up, pull-down or disabled", bias)
}

// Prepare implements Bench. On gpio-sim a pull-up or pull-down bias also sets the simulated
// pull, which stays after the release; an output returns to that pull when released.
func (b *GPIOSim) Prepare(l Line, s State) error {
	opts, err := stateOptions(l, s)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.touched[l] = true
	b.mu.Unlock()
	if err := b.request(l, opts...); err != nil {
		return fmt.Errorf("prepare %s as %s: %w", l, s, err)
	}
	return nil
}

// DefaultPull is gpio-sim's simulated pull of a new line, which Restore returns lines to.
const DefaultPull = vocab.PullDown

// Restore implements Bench: input with bias disabled, released, and gpio-sim's default pull,
// which is as close to "no pull" as gpio-sim gets. A line a tool left exported in the legacy
// sysfs interface is unexported first.
func (b *GPIOSim) Restore(l Line) error {
	c, err := b.chip(l)
	if err != nil {
		return err
	}
	if err := restoreOnce(c, l); err != nil {
		return fmt.Errorf("restore %s: %w", l, err)
	}
	sc, err := b.simChip(l)
	if err != nil {
		return err
	}
	if err := os.WriteFile(sc.Attr(l.Offset, "pull"), []byte(string(DefaultPull)), 0); err != nil {
		return fmt.Errorf("restore %s: set the simulated pull: %w", l, err)
	}
	return nil
}

func readAttr(path string) (string, error) {
	v, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.TrimSpace(string(v)), nil
}

// Observe implements Bench. It never requests the line. On a free line it flips the
// simulated pull for a moment to learn whether anything drives the line, and puts it back; it
// never does so on a requested input, where the flip would be an edge the holder could see.
func (b *GPIOSim) Observe(l Line) (observe.Observation, error) {
	sc, err := b.simChip(l)
	if err != nil {
		return observe.Observation{}, err
	}
	o := observe.New(l.Chip, l.Name, l.Offset, b.Can(), b.platform(l))
	c, err := b.chip(l)
	if err != nil {
		return o, err
	}
	info, err := c.LineInfo(l.Offset)
	if err != nil {
		return o, fmt.Errorf("line info of %s: %w", l, err)
	}
	valuePath, pullPath := sc.Attr(l.Offset, "value"), sc.Attr(l.Offset, "pull")
	value, err := readAttr(valuePath)
	if err != nil {
		return o, err
	}
	pull, err := readAttr(pullPath)
	if err != nil {
		return o, err
	}
	o.Level, o.Pull = vocab.Level(value), vocab.Pull(pull)
	o.Evidencef("sim value=%s, sim pull=%s", value, pull)
	if info.Used {
		o.Owner, o.Consumer = vocab.Used, info.Consumer
		o.Evidencef("line info: used by %q (direction and bias in line info are current while requested)", info.Consumer)
		if info.Config.Direction == gpiocdev.LineDirectionOutput {
			o.Direction, o.Drive = vocab.Output, vocab.Driven
		} else {
			o.Direction, o.Drive = vocab.Input, vocab.Pulled
		}
		o.Evidencef("line info: direction %s, bias %s", o.Direction, BiasOf(info.Config.Bias))
		return o, nil
	}
	o.Owner = vocab.Free
	o.Evidencef("line info: free (its cached direction is not evidence after a release)")
	// Probe: flip the simulated pull; an undriven line follows it.
	flip := o.Pull.Opposite()
	if err := os.WriteFile(pullPath, []byte(string(flip)), 0); err != nil {
		return o, fmt.Errorf("probe %s: set the simulated pull: %w", l, err)
	}
	flipped, rerr := readAttr(valuePath)
	if err := os.WriteFile(pullPath, []byte(pull), 0); err != nil {
		return o, fmt.Errorf("probe %s: put the simulated pull back to %s: %w", l, pull, err)
	}
	if rerr != nil {
		return o, rerr
	}
	if back, err := readAttr(valuePath); err != nil || back != value {
		return o, fmt.Errorf("probe %s: value %s before the probe but %s after it (%v)", l, value, back, err)
	}
	if vocab.Level(flipped) == simLevel(flip) && o.Level == simLevel(o.Pull) {
		o.Direction, o.Drive = vocab.Input, vocab.Pulled
		o.Evidencef("probe: value followed the simulated pull (%s to %s and back): not driven", pull, flip)
	} else {
		o.Direction, o.Drive = vocab.Output, vocab.Driven
		o.Evidencef("probe: value stayed %s while the simulated pull went %s to %s: driven", value, pull, flip)
	}
	return o, nil
}

// simLevel is the level gpio-sim gives an undriven line with simulated pull p: it has only
// pull-up and pull-down, so anything but pull-up reads low.
func simLevel(p vocab.Pull) vocab.Level {
	if p == vocab.PullUp {
		return vocab.High
	}
	return vocab.Low
}

// BiasOf is the bias a line-info configuration shows; as-is when it shows none.
func BiasOf(b gpiocdev.LineBias) vocab.Bias {
	switch b {
	case gpiocdev.WithPullUp:
		return vocab.BiasPullUp
	case gpiocdev.WithPullDown:
		return vocab.BiasPullDown
	case gpiocdev.WithBiasDisabled:
		return vocab.BiasDisabled
	}
	return vocab.BiasAsIs
}

func (b *GPIOSim) platform(l Line) observe.Platform {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.plat[l.ChipName]
	if !ok {
		p = observe.ReadPlatform(b.Kind(), l.ChipName)
		b.plat[l.ChipName] = p
	}
	return p
}

// Close implements Bench: restores every line the bench touched, closes its chip handles and
// removes the chips it created.
func (b *GPIOSim) Close() error {
	var errs []error
	b.mu.Lock()
	var touched []Line
	for l := range b.touched {
		touched = append(touched, l)
	}
	b.mu.Unlock()
	for _, l := range touched {
		if err := b.Restore(l); err != nil {
			errs = append(errs, err)
		}
	}
	b.mu.Lock()
	for n, c := range b.open {
		c.Close()
		delete(b.open, n)
	}
	b.touched = map[Line]bool{}
	b.mu.Unlock()
	if b.created != nil {
		b.created.Close()
		b.created = nil
	}
	return errors.Join(errs...)
}

// ObserveSim observes lines of an existing gpio-sim chip, found by label on the running
// kernel. Lines are given by name or offset.
func ObserveSim(label string, lines []string) ([]observe.Observation, error) {
	c, err := sim.Lookup(label)
	if err != nil {
		return nil, err
	}
	b := AttachGPIOSim([]sim.Chip{c})
	defer b.Close()
	var obs []observe.Observation
	for _, name := range lines {
		l, err := b.Line(name)
		if err != nil {
			off, aerr := strconv.Atoi(name)
			if aerr != nil || off < 0 || off >= len(c.Lines) {
				return nil, fmt.Errorf("%w (and it is not an offset 0 to %d)", err, len(c.Lines)-1)
			}
			l = b.Lines()[off]
		}
		o, err := b.Observe(l)
		if err != nil {
			return nil, err
		}
		obs = append(obs, o)
	}
	return obs, nil
}

// SysfsConsumer is the consumer line info names for a line exported in /sys/class/gpio.
const SysfsConsumer = "sysfs"

// unexport releases a line exported in the legacy sysfs interface.
func unexport(l Line) error {
	base, err := SysfsBase(l.Chip)
	if err != nil {
		return fmt.Errorf("line %s is exported in /sys/class/gpio but its chip is not listed there: %w", l, err)
	}
	n := base + l.Offset
	if err := os.WriteFile("/sys/class/gpio/unexport", []byte(strconv.Itoa(n)), 0); err != nil {
		return fmt.Errorf("unexport GPIO %d (%s) from /sys/class/gpio: %w", n, l, err)
	}
	return nil
}

// SysfsBase returns the legacy sysfs GPIO number of offset 0 of the chip with this label.
func SysfsBase(label string) (int, error) {
	dirs, _ := filepath.Glob("/sys/class/gpio/gpiochip*")
	for _, d := range dirs {
		l, err := os.ReadFile(filepath.Join(d, "label"))
		if err != nil || strings.TrimSpace(string(l)) != label {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "base"))
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("%s/base: %w", d, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("no legacy sysfs chip labelled %q in /sys/class/gpio (kernel without CONFIG_GPIO_SYSFS?)", label)
}
