package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// BCM2711Label is the label of the Raspberry Pi 4's and 400's GPIO chip, whose driver is
// pinctrl-bcm2835 too.
const BCM2711Label = "pinctrl-bcm2711"

// PinctrlLabels are the labels of the GPIO chips the pinctrl-bcm2835 driver registers: the
// Pi 0 to 3's (and the emulated Pi 3's), and the Pi 4's and 400's.
var PinctrlLabels = []string{BCM2835Label, BCM2711Label}

// DebugFS is where debugfs is mounted, on Raspberry Pi OS and in gpiohil's emulated Pi alike.
const DebugFS = "/sys/kernel/debug"

// PinctrlConfig says which Raspberry Pi GPIO chip a Pinctrl observes.
type PinctrlConfig struct {
	Label string // BCM2835Label or BCM2711Label
	// Emulated is set in gpiohil's emulated Pi (QEMU raspi3b), whose GPIO model has neither
	// input levels nor pulls. It changes only the bench kind and why level, drive and pull are
	// unknown: the kernel, the driver and the debugfs files are a real Pi 3's.
	Emulated bool
	DebugFS  string // where debugfs is mounted; "" means DebugFS
}

// Pinctrl observes the lines of a Raspberry Pi's own GPIO chip, driven by pinctrl-bcm2835 (a
// Pi 0 to 4, or the emulated Pi 3), the way EmulatedPi does and with nothing more: the pin's
// function from the pinctrl debugfs, which the driver reads from the GPFSEL registers, and who
// holds the line from line info. It never requests a line, so it prepares none either: it is
// an observer, not a Bench. It refuses the lines PiAllowed refuses.
type Pinctrl struct {
	cfg  PinctrlConfig
	chip *gpiocdev.Chip
	pins string // the controller's debugfs pins file
	plat observe.Platform
}

// OpenPinctrl opens the chip labelled cfg.Label and finds its pins file in debugfs. Line
// info needs read access to /dev/gpiochip* (root or the gpio group), debugfs needs root.
func OpenPinctrl(cfg PinctrlConfig) (*Pinctrl, error) {
	if cfg.DebugFS == "" {
		cfg.DebugFS = DebugFS
	}
	if !slices.Contains(PinctrlLabels, cfg.Label) {
		return nil, fmt.Errorf("chip %q: not a chip of pinctrl-bcm2835, whose chips are labelled %s", cfg.Label, strings.Join(PinctrlLabels, " or "))
	}
	chip, err := OpenChipByLabel(cfg.Label)
	if err != nil {
		return nil, err
	}
	pins, err := PinsFile(cfg.DebugFS, cfg.Label)
	if err != nil {
		chip.Close()
		return nil, err
	}
	kind := vocab.KindRPi
	if cfg.Emulated {
		kind = vocab.KindVMRPi3
	}
	return &Pinctrl{cfg: cfg, chip: chip, pins: pins, plat: observe.ReadPlatform(kind, chip.Name)}, nil
}

// OpenChipByLabel opens the GPIO chip with this label. Opening a chip touches none of its lines.
func OpenChipByLabel(label string) (*gpiocdev.Chip, error) {
	var seen []string
	var denied error
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name, gpiocdev.WithConsumer(Consumer))
		if errors.Is(err, fs.ErrPermission) && denied == nil {
			denied = err
		}
		if err != nil {
			continue
		}
		if c.Label == label {
			return c, nil
		}
		seen = append(seen, fmt.Sprintf("%s [%s]", name, c.Label))
		c.Close()
	}
	if denied != nil {
		return nil, fmt.Errorf("find chip %q: %w; run as root, or join the group that owns it (usually gpio: sudo usermod -aG gpio $USER, then log in again)", label, denied)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no GPIO chip labelled %q: this kernel has no GPIO chips", label)
	}
	return nil, fmt.Errorf("no GPIO chip labelled %q (chips here: %s)", label, strings.Join(seen, ", "))
}

// PinsFile finds the debugfs pins file of the pin controller whose chip is labelled label,
// e.g. /sys/kernel/debug/pinctrl/3f200000.gpio-pinctrl-bcm2835/pins. Its errors say whether
// debugfs is not mounted or not readable (not root).
func PinsFile(debugfs, label string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(debugfs, &st); err != nil || st.Type != unix.DEBUGFS_MAGIC {
		return "", fmt.Errorf("debugfs is not mounted at %s, where the pin functions of %s are: mount it (sudo mount -t debugfs none %s) and try again", debugfs, label, debugfs)
	}
	dir := filepath.Join(debugfs, "pinctrl")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrPermission) {
		return "", fmt.Errorf("read the pin functions in %s: %w: debugfs is root's; run as root (sudo)", dir, err)
	}
	if err != nil {
		return "", fmt.Errorf("read the pin functions in %s: %w", dir, err)
	}
	var found []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "-"+label) {
			return filepath.Join(dir, e.Name(), "pins"), nil
		}
		found = append(found, e.Name())
	}
	return "", fmt.Errorf("no pin controller of %s in %s (found: %s)", label, dir, strings.Join(found, ", "))
}

// Can is what Observe sees: the direction (the pin's function) and the owner.
func (p *Pinctrl) Can() vocab.Capabilities {
	return vocab.See(vocab.FieldDirection, vocab.FieldOwner)
}

// offset finds BCM GPIO n by GPIO<N>, by N, or by the line's device-tree name.
func (p *Pinctrl) offset(name string) (int, bool) {
	num, _ := strings.CutPrefix(name, "GPIO")
	if n, err := strconv.Atoi(num); err == nil {
		return n, n >= 0 && n < p.chip.Lines()
	}
	n, err := p.chip.FindLine(name)
	return n, err == nil
}

// Line finds a line by GPIO<N>, N or its device-tree name (SPI_CE0_N), and refuses the lines
// PiAllowed refuses.
func (p *Pinctrl) Line(name string) (Line, error) {
	n, ok := p.offset(name)
	if !ok {
		return Line{}, fmt.Errorf("%w: %q is not a line of %s; name it GPIO17, 17 or by its device-tree name (gpioinfo lists them)", ErrNoLine, name, p.cfg.Label)
	}
	if ok, why := PiAllowed(n); !ok {
		return Line{}, fmt.Errorf("%w: %s is BCM GPIO %d: %s; gpiohil observes only GPIO 2 to 13 and 16 to 27, the header's general-purpose pins", ErrReserved, name, n, why)
	}
	ln := "GPIO" + strconv.Itoa(n)
	if info, err := p.chip.LineInfo(n); err == nil && info.Name != "" {
		ln = info.Name
	}
	return Line{Chip: p.cfg.Label, ChipName: p.chip.Name, Dev: "/dev/" + p.chip.Name, Name: ln, Offset: n}, nil
}

// FunctionDirection is the direction a pinctrl-bcm2835 function gives a pin: gpio_in an
// input, gpio_out an output, an alternate function (alt0 to alt5) unknown.
func FunctionDirection(fn string) vocab.Direction {
	switch fn {
	case "gpio_in":
		return vocab.Input
	case "gpio_out":
		return vocab.Output
	}
	return vocab.DirectionUnknown
}

// Observe reports the line's function and owner, and why its level, drive and pull are
// unknown. It never requests the line: requesting and releasing it, even as is, would turn an
// output into an input on this driver.
func (p *Pinctrl) Observe(l Line) (observe.Observation, error) {
	o := observe.New(l.Chip, l.Name, l.Offset, p.Can(), p.plat)
	if l.Chip != p.cfg.Label {
		return o, fmt.Errorf("%w: line %s is not on %s", ErrNoLine, l, p.cfg.Label)
	}
	if ok, why := PiAllowed(l.Offset); !ok {
		return o, fmt.Errorf("%w: %s: %s", ErrReserved, l, why)
	}
	info, err := p.chip.LineInfo(l.Offset)
	if err != nil {
		return o, fmt.Errorf("line info of %s: %w", l, err)
	}
	RecordOwner(&o, info, "")
	fn, err := PinFunction(p.pins, l.Offset)
	if err != nil {
		return o, err
	}
	o.Direction = FunctionDirection(fn)
	o.Evidencef("pinctrl debugfs: function %s (the GPFSEL register)", fn)
	if o.Direction == vocab.DirectionUnknown {
		o.Unknownf(vocab.FieldDirection, "the pin is muxed to %s, an alternate function, not to GPIO", fn)
	}
	p.explainElectrical(&o)
	return o, nil
}

// explainElectrical says why level, drive and pull are unknown on this board.
func (p *Pinctrl) explainElectrical(o *observe.Observation) {
	if p.cfg.Emulated {
		o.Unknownf(vocab.FieldLevel, "QEMU's bcm2835 GPIO model latches the last set or clear whatever the pin's function, so it has no level of an input")
		o.Unknownf(vocab.FieldPull, "QEMU models no pulls, and the BCM2835 cannot read its pull setting back")
		o.Unknownf(vocab.FieldDrive, "it needs the level and the pull, which the emulated Pi does not model")
		return
	}
	o.Unknownf(vocab.FieldLevel, "this bench reads the pin's function only; a loopback rig (--rig FILE) sees the level from a partner pin")
	o.Unknownf(vocab.FieldPull, "the BCM2835 to BCM2837 cannot read their pulls back and pinctrl-bcm2835 does not show the BCM2711's; a loopback rig (--rig FILE) sees it")
	o.Unknownf(vocab.FieldDrive, "it needs the level and the pull; a loopback rig (--rig FILE) sees it")
}

// Close closes the chip.
func (p *Pinctrl) Close() error { return p.chip.Close() }

// ObservePinctrl observes lines of a Raspberry Pi's own GPIO chip (OpenPinctrl), given by
// GPIO<N>, N or device-tree name.
func ObservePinctrl(cfg PinctrlConfig, lines []string) ([]observe.Observation, error) {
	p, err := OpenPinctrl(cfg)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var obs []observe.Observation
	for _, name := range lines {
		l, err := p.Line(name)
		if err != nil {
			return nil, err
		}
		o, err := p.Observe(l)
		if err != nil {
			return nil, fmt.Errorf("observe %s: %w", l, err)
		}
		obs = append(obs, o)
	}
	return obs, nil
}
