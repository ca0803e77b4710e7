package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// BCM2835Label is the label of the Raspberry Pi's own GPIO chip (Pi 0 to 4), driver pinctrl-bcm2835.
const BCM2835Label = "pinctrl-bcm2835"

// BCM2835Driver is the name of that chip's kernel driver.
const BCM2835Driver = "pinctrl-bcm2835"

// ErrReserved is returned (wrapped) for a line the bench must never touch.
var ErrReserved = errors.New("line reserved")

// PiAllowed reports whether the emulated Pi bench may touch BCM GPIO n, and why not.
//
// It allows GPIO 2 to 13 and 16 to 27: the general-purpose pins of the 40-pin header, the pins
// a Pi user's programs drive. Not allowed:
//   - 0 and 1: the header's ID EEPROM I2C pins, reserved for HAT identification;
//   - 14 and 15: the mini UART on the header, the emulated Pi's console and result channel;
//   - 28 to 53: not on the header; on a Pi 3 they run the Bluetooth UART (32, 33), the Wi-Fi
//     clock (43), audio (40, 41) and the SD card (48 to 53: in QEMU, changing their function
//     moves the SD card between controllers).
func PiAllowed(n int) (ok bool, why string) {
	switch {
	case n == 0 || n == 1:
		return false, "GPIO 0 and 1 are the HAT ID EEPROM's I2C pins"
	case n == 14 || n == 15:
		return false, "GPIO 14 and 15 are the UART that carries the console and results"
	case n >= 48 && n <= 53:
		return false, "GPIO 48 to 53 are the SD card's"
	case n >= 28:
		return false, fmt.Sprintf("GPIO %d is not on the 40-pin header but wired to the board's own devices", n)
	case n < 0:
		return false, fmt.Sprintf("GPIO %d does not exist", n)
	}
	return true, ""
}

// EmulatedPi is the bench on the emulated Raspberry Pi's GPIO controller, driven by the
// genuine pinctrl-bcm2835 driver of Debian's kernel under QEMU raspi3b (chip pinctrl-bcm2835)
// or raspi4b (chip pinctrl-bcm2711).
//
// What it can see: the pin's function (input, output or an alternate function) from the
// pinctrl debugfs, which the driver reads from the GPFSEL registers, and who holds the line
// (line info). Never the direction from line info: after a release it keeps the cached
// "output" flag while the driver has already made the pin an input. Not visible, because
// QEMU's bcm2835 GPIO model does not implement them: levels (its level register just latches
// the last set or clear, whatever the function), pulls (and the BCM2835 cannot read its pulls
// back anyway) and edges; so Level, Drive and Pull are always Unknown. How a tool's request
// gave the line back (the released direction and bias) comes from the kernel's line-info
// events while the tool ran (package trial's watch).
//
// On the Pi 4 the pull is visible too: the BCM2711's pull registers read back, QEMU models
// them, and the driver shows what they hold in the pinctrl debugfs pinconf-pins file; the
// bench reads it from there (PinPull). The Pi 3's pulls come from the register witness instead
// (marks, below); on the Pi 4 the witness is a second opinion the host checks against it.
//
// The bench touches only the lines PiAllowed allows, found by their device-tree names
// (GPIO17, SPI_CE0_N, ...); "GPIO<N>" finds BCM GPIO N whatever its name.
type EmulatedPi struct {
	label    string // BCM2835Label (Pi 3) or BCM2711Label (Pi 4)
	chipName string // e.g. gpiochip0
	dev      string
	pins     string // debugfs pins file of the controller
	pinconf  string // its pinconf-pins file; "" on the Pi 3, whose pulls do not read back
	lines    []Line
	plat     observe.Platform

	// marks writes the register witness's marks (regmark.go); nil outside gpiohil's VM or when
	// /dev/mem cannot be mapped, which markErr then says.
	marks   *regMark
	markErr error

	mu      sync.Mutex
	chip    *gpiocdev.Chip
	touched map[Line]bool
}

// NewEmulatedPi opens the bench on the running kernel's pinctrl-bcm2835 chip (labelled
// pinctrl-bcm2835 on a Pi 3, pinctrl-bcm2711 on a Pi 4). It needs root and debugfs mounted
// (gpiohil's guest agent mounts it).
func NewEmulatedPi() (*EmulatedPi, error) {
	b := &EmulatedPi{touched: map[Line]bool{}}
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name, gpiocdev.WithConsumer(Consumer))
		if err != nil {
			continue
		}
		if slices.Contains(PinctrlLabels, c.Label) {
			b.chip, b.label, b.chipName, b.dev = c, c.Label, c.Name, "/dev/"+c.Name
			break
		}
		c.Close()
	}
	if b.chip == nil {
		return nil, fmt.Errorf("bench %s: no GPIO chip labelled %s (not a Raspberry Pi 0 to 4 kernel, or no permission on /dev/gpiochip*)", vocab.KindVMRPi3, strings.Join(PinctrlLabels, " or "))
	}
	pins, _ := filepath.Glob("/sys/kernel/debug/pinctrl/*-" + b.label + "/pins")
	if len(pins) != 1 {
		b.chip.Close()
		return nil, fmt.Errorf("bench %s: no pinctrl debugfs for %s under /sys/kernel/debug/pinctrl (mount debugfs there and run as root)", vocab.KindVMRPi3, b.label)
	}
	b.pins = pins[0]
	if b.label == BCM2711Label {
		b.pinconf = filepath.Join(filepath.Dir(b.pins), "pinconf-pins")
	}
	for n := 0; n < b.chip.Lines(); n++ {
		if ok, _ := PiAllowed(n); !ok {
			continue
		}
		info, err := b.chip.LineInfo(n)
		if err != nil {
			b.chip.Close()
			return nil, fmt.Errorf("bench %s: line info of %s offset %d: %w", vocab.KindVMRPi3, b.chipName, n, err)
		}
		name := info.Name
		if name == "" {
			name = "GPIO" + strconv.Itoa(n)
		}
		b.lines = append(b.lines, Line{Chip: b.label, ChipName: b.chipName, Dev: b.dev, Name: name, Offset: n})
	}
	b.plat = observe.ReadPlatform(vocab.KindVMRPi3, b.chipName)
	// The marks go to the SoC's GPIO block: the BCM2837's, or the BCM2711's.
	if runenv.InVM() {
		base := int64(regwitness.Base)
		if b.label == BCM2711Label {
			base = regwitness.Base2711
		}
		b.marks, b.markErr = openRegMark(base)
	}
	return b, nil
}

// Kind implements Bench.
func (b *EmulatedPi) Kind() vocab.BenchKind { return vocab.KindVMRPi3 }

// Can implements Bench.
func (b *EmulatedPi) Can() vocab.Capabilities {
	if b.pinconf != "" {
		return vocab.See(vocab.FieldDirection, vocab.FieldPull, vocab.FieldOwner, vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
	}
	return vocab.See(vocab.FieldDirection, vocab.FieldOwner, vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
}

// Lines implements Bench: the allowed lines, by offset.
func (b *EmulatedPi) Lines() []Line { return append([]Line(nil), b.lines...) }

// Line implements Bench. name is a device-tree line name (GPIO17, SPI_CE0_N) or GPIO<N>.
func (b *EmulatedPi) Line(name string) (Line, error) {
	for _, l := range b.lines {
		if l.Name == name || "GPIO"+strconv.Itoa(l.Offset) == name {
			return l, nil
		}
	}
	n := -1
	if v, ok := strings.CutPrefix(name, "GPIO"); ok {
		if i, err := strconv.Atoi(v); err == nil {
			n = i
		}
	}
	if n < 0 {
		for i := 0; i < b.chip.Lines(); i++ {
			if info, err := b.chip.LineInfo(i); err == nil && info.Name == name {
				n = i
				break
			}
		}
	}
	if n >= 0 && n < b.chip.Lines() {
		if ok, why := PiAllowed(n); !ok {
			return Line{}, fmt.Errorf("bench %s: %w: %s is BCM GPIO %d: %s; the bench touches only GPIO 2 to 13 and 16 to 27", b.Kind(), ErrReserved, name, n, why)
		}
	}
	return Line{}, fmt.Errorf("bench %s: %w: %q is not a line of %s (try GPIO17)", b.Kind(), ErrNoLine, name, b.label)
}

// allowed checks that l is one of the bench's lines before anything touches it.
func (b *EmulatedPi) allowed(l Line) error {
	if l.Chip != b.label {
		return fmt.Errorf("bench %s: %w: line %s is not on %s", b.Kind(), ErrNoLine, l, b.label)
	}
	if ok, why := PiAllowed(l.Offset); !ok {
		return fmt.Errorf("bench %s: %w: %s: %s", b.Kind(), ErrReserved, l, why)
	}
	return nil
}

// Prepare implements Bench. The request is released before Prepare returns, so what the line is
// left in is the driver's release semantics: with persist_gpio_outputs off an output pre-state
// reads as an input afterwards.
func (b *EmulatedPi) Prepare(l Line, s State) error {
	if err := b.allowed(l); err != nil {
		return err
	}
	opts, err := stateOptions(l, s)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.touched[l] = true
	b.mu.Unlock()
	if err := requestOnce(b.chip, l, opts...); err != nil {
		return fmt.Errorf("prepare %s as %s: %w", l, s, err)
	}
	return nil
}

// Restore implements Bench: input with bias disabled, released; a line a tool left exported in
// /sys/class/gpio is unexported first.
func (b *EmulatedPi) Restore(l Line) error {
	if err := b.allowed(l); err != nil {
		return err
	}
	if err := restoreOnce(b.chip, l); err != nil {
		return fmt.Errorf("restore %s: %w", l, err)
	}
	return nil
}

// Function reads BCM GPIO n's function (gpio_in, gpio_out, alt0 to alt5) from the pinctrl
// debugfs, where the driver shows what the GPFSEL register holds.
func (b *EmulatedPi) Function(n int) (string, error) {
	return PinFunction(b.pins, n)
}

// PinFunction reads pin n's function from a pinctrl-bcm2835 debugfs pins file, whose lines read
// "pin 17 (gpio17) 0:? function gpio_out out hi; irq 0 (none)".
func PinFunction(pinsFile string, n int) (string, error) {
	line, err := pinLine(pinsFile, n, "read pin functions")
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(line, " function ")
	if fn := strings.Fields(rest); ok && len(fn) > 0 {
		return fn[0], nil
	}
	return "", fmt.Errorf("%s: pin %d: no function in %q", pinsFile, n, line)
}

// PinPull reads pin n's pull from a pinctrl-bcm2835 debugfs pinconf-pins file of a BCM2711,
// whose lines read "pin 17 (gpio17): input bias pull up (50000 ohms)" or "pin 17 (gpio17):
// input bias disabled"; text is what the line says after the pin's name.
func PinPull(pinconfFile string, n int) (pull vocab.Pull, text string, err error) {
	line, err := pinLine(pinconfFile, n, "read pin pulls")
	if err != nil {
		return vocab.PullUnknown, "", err
	}
	_, text, _ = strings.Cut(line, "): ")
	text = strings.TrimSpace(text)
	switch {
	case strings.Contains(text, "bias pull up"):
		return vocab.PullUp, text, nil
	case strings.Contains(text, "bias pull down"):
		return vocab.PullDown, text, nil
	case strings.Contains(text, "bias disabled"):
		return vocab.PullNone, text, nil
	}
	return vocab.PullUnknown, text, fmt.Errorf("%s: pin %d: no bias in %q", pinconfFile, n, line)
}

// pinLine is pin n's line of a pinctrl debugfs file ("pin 17 (gpio17)..."); what says what
// was being done, for the error of a file that cannot be opened.
func pinLine(file string, n int, what string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	prefix := fmt.Sprintf("pin %d ", n)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, prefix) {
			return line, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return "", fmt.Errorf("%s: no pin %d", file, n)
}

// Observe implements Bench. It never requests the line: requesting and releasing it, even as
// is, would turn an output into an input on this driver.
func (b *EmulatedPi) Observe(l Line) (observe.Observation, error) {
	o := observe.New(l.Chip, l.Name, l.Offset, b.Can(), b.plat)
	if l.Chip != b.label {
		return o, fmt.Errorf("bench %s: %w: line %s is not on %s", b.Kind(), ErrNoLine, l, b.label)
	}
	info, err := b.chip.LineInfo(l.Offset)
	if err != nil {
		return o, fmt.Errorf("line info of %s: %w", l, err)
	}
	RecordOwner(&o, info, "")
	fn, err := b.Function(l.Offset)
	if err != nil {
		return o, err
	}
	switch fn {
	case "gpio_in":
		o.Direction = vocab.Input
	case "gpio_out":
		o.Direction = vocab.Output
	}
	o.Evidencef("pinctrl debugfs: function %s (the GPFSEL register)", fn)
	if b.pinconf != "" {
		pull, text, err := PinPull(b.pinconf, l.Offset)
		if err != nil {
			return o, err
		}
		o.Pull = pull
		o.Evidencef("pinctrl debugfs pinconf-pins: %s (the BCM2711's pull registers, read back)", text)
		o.Evidencef("level and drive: not visible, QEMU's GPIO model latches levels and applies no pulls to them")
	} else {
		o.Evidencef("level, drive and pull: not visible, QEMU's bcm2835 GPIO models neither levels of inputs nor pulls")
	}
	switch {
	case b.marks != nil:
		o.Mark = b.marks.mark()
		o.Evidencef("register witness mark %d: the host reads the pull and latch of this moment in QEMU's trace", o.Mark)
	case b.markErr != nil:
		o.Evidencef("register witness: no mark (%v)", b.markErr)
	}
	return o, nil
}

// Close implements Bench: restores every line the bench touched and closes the chip.
func (b *EmulatedPi) Close() error {
	b.mu.Lock()
	var touched []Line
	for l := range b.touched {
		touched = append(touched, l)
	}
	b.touched = map[Line]bool{}
	b.mu.Unlock()
	var errs []error
	for _, l := range touched {
		if err := b.Restore(l); err != nil {
			errs = append(errs, err)
		}
	}
	b.mu.Lock()
	if b.chip != nil {
		b.chip.Close()
		b.chip = nil
	}
	if b.marks != nil {
		errs = append(errs, b.marks.close())
		b.marks = nil
	}
	b.mu.Unlock()
	return errors.Join(errs...)
}
