// Package observe describes what a GPIO line is doing, with the evidence behind each field,
// and never by requesting the line under test.
//
// Requesting a line is not a neutral look: releasing even an "as-is" request runs the chip
// driver's free callback, which on mainline pinctrl-bcm2835 turns an output back into an
// input. And the kernel's line info for an unrequested line is not evidence either: after a
// release it keeps reporting the cached "output" flag and never shows a bias. So an
// Observation takes line info only for what it gets right at all times (whether the line is
// requested, and by which consumer) and, while the line is requested, its configuration; the
// electrical facts come from the bench: gpio-sim's own attributes, the pinctrl function in
// debugfs, or a loopback partner pin. A field a bench cannot see is Unknown, and Can lists what
// it can see, so a check that needs a field it lacks can skip with that reason.
package observe

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Unknown is the value of every field a bench cannot see.
const Unknown = vocab.Unknown

// Facts are what a line is doing, field by field; Unknown where it is not known.
type Facts struct {
	Direction vocab.Direction `json:"direction"`
	Level     vocab.Level     `json:"level"`
	Drive     vocab.Drive     `json:"drive"`
	Pull      vocab.Pull      `json:"pull"`
	Owner     vocab.Owner     `json:"owner"`
	Consumer  string          `json:"consumer,omitempty"`

	// How the line was given back while a tool ran (vocab.FieldReleasedDirection): from the
	// kernel's line-info events, when the bench watched them.
	ReleasedDirection vocab.Direction `json:"released-direction,omitempty"`
	ReleasedBias      vocab.Bias      `json:"released-bias,omitempty"`
}

// Value is field f's value, in the words reports and expectations use.
func (s Facts) Value(f vocab.Field) string {
	switch f {
	case vocab.FieldDirection:
		return string(s.Direction)
	case vocab.FieldLevel:
		return string(s.Level)
	case vocab.FieldDrive:
		return string(s.Drive)
	case vocab.FieldPull:
		return string(s.Pull)
	case vocab.FieldOwner:
		return string(s.Owner)
	case vocab.FieldConsumer:
		return s.Consumer
	case vocab.FieldReleasedDirection:
		return known(string(s.ReleasedDirection))
	case vocab.FieldReleasedBias:
		return known(string(s.ReleasedBias))
	}
	return Unknown
}

// Set sets field f to v, in the words Value returns; the inverse of Value, for reading a state
// back from a report.
func (s *Facts) Set(f vocab.Field, v string) {
	switch f {
	case vocab.FieldDirection:
		s.Direction = vocab.Direction(v)
	case vocab.FieldLevel:
		s.Level = vocab.Level(v)
	case vocab.FieldDrive:
		s.Drive = vocab.Drive(v)
	case vocab.FieldPull:
		s.Pull = vocab.Pull(v)
	case vocab.FieldOwner:
		s.Owner = vocab.Owner(v)
	case vocab.FieldConsumer:
		s.Consumer = v
	case vocab.FieldReleasedDirection:
		s.ReleasedDirection = vocab.Direction(v)
	case vocab.FieldReleasedBias:
		s.ReleasedBias = vocab.Bias(v)
	}
}

// known is v, or Unknown for "".
func known(v string) string {
	if v == "" {
		return Unknown
	}
	return v
}

// Observation is the state of one line.
type Observation struct {
	Chip   string `json:"chip"` // chip label
	Line   string `json:"line"` // line name
	Offset int    `json:"offset"`

	Facts

	Can      vocab.Capabilities `json:"can"`      // what this bench can see
	Evidence []string           `json:"evidence"` // how each field was found, in order
	// WhyUnknown says, for a field left Unknown, why: the bench cannot see it, or what it saw
	// fits several values. Filled where a person reads the observation (gpiohil observe).
	WhyUnknown map[vocab.Field]string `json:"why-unknown,omitempty"`

	Platform Platform `json:"platform"`
	// Mark, on the emulated Pi, is the register witness's mark written when this observation
	// was made: the host finds the pin's pull and latch at that moment in QEMU's trace of the
	// GPIO block's writes (package regwitness). 0: none.
	Mark uint32 `json:"mark,omitempty"`
}

// New returns an Observation with every field Unknown.
func New(chip, line string, offset int, can vocab.Capabilities, p Platform) Observation {
	return Observation{Chip: chip, Line: line, Offset: offset, Facts: Facts{Direction: vocab.DirectionUnknown, Level: vocab.LevelUnknown,
		Drive: vocab.DriveUnknown, Pull: vocab.PullUnknown, Owner: vocab.OwnerUnknown}, Can: can, Platform: p}
}

// Evidencef records how a field was found.
func (o *Observation) Evidencef(format string, args ...any) {
	o.Evidence = append(o.Evidence, fmt.Sprintf(format, args...))
}

// Unknownf records why field f is Unknown.
func (o *Observation) Unknownf(f vocab.Field, format string, args ...any) {
	if o.WhyUnknown == nil {
		o.WhyUnknown = map[vocab.Field]string{}
	}
	o.WhyUnknown[f] = fmt.Sprintf(format, args...)
}

// StateFields are the fields an observation states about the line itself, in report order.
var StateFields = []vocab.Field{vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner}

// ExplainUnknown gives every state field that is Unknown and has no reason yet its reason: the
// bench cannot see it at all, or its evidence did not settle it.
func (o *Observation) ExplainUnknown() {
	for _, f := range StateFields {
		if o.Value(f) != Unknown || o.WhyUnknown[f] != "" {
			continue
		}
		if !o.Has(f) {
			o.Unknownf(f, "bench %s cannot see it", o.Platform.Bench)
		} else {
			o.Unknownf(f, "the evidence did not settle it")
		}
	}
}

// Has reports whether the bench that made o can see field f.
func (o Observation) Has(f vocab.Field) bool { return o.Can.Has(f) }

// State is the short form used in tables and reports, e.g. "output high driven" or
// "input pulled pull-up"; fields the bench cannot see are left out ("input" on a bench that
// sees only the direction).
func (o Observation) State() string {
	var parts []string
	add := func(v string) {
		if v != "" && v != Unknown {
			parts = append(parts, v)
		}
	}
	add(string(o.Direction))
	add(o.Level.Word())
	add(string(o.Drive))
	if o.Drive != vocab.Driven {
		add(string(o.Pull))
	}
	if len(parts) == 0 {
		return Unknown
	}
	return strings.Join(parts, " ")
}

// Summary is State and, when it was witnessed, how the line was given back, e.g. "input low
// pulled pull-down, released as output pull-up": the matrix's cell.
func (o Observation) Summary() string {
	s := o.State()
	switch o.ReleasedDirection {
	case vocab.Input, vocab.Output:
		s += ", released as " + string(o.ReleasedDirection)
		if o.ReleasedBias != vocab.BiasAsIs && o.ReleasedBias != "" && o.ReleasedBias != vocab.BiasUnknown {
			s += " " + string(o.ReleasedBias)
		}
	}
	return s
}

// Platform holds the facts an observation depends on.
type Platform struct {
	Kernel  string          `json:"kernel"`            // kernel release
	Bench   vocab.BenchKind `json:"bench"`             // bench kind, e.g. gpio-sim
	Driver  string          `json:"driver"`            // the chip's driver, e.g. gpio-sim, pinctrl-bcm2835
	Persist vocab.Persist   `json:"persist,omitempty"` // pinctrl_bcm2835.persist_gpio_outputs where that module exists
}

// PersistParam is where the Raspberry Pi pinctrl driver's persist_gpio_outputs parameter lives.
const PersistParam = "/sys/module/pinctrl_bcm2835/parameters/persist_gpio_outputs"

// ReadPlatform reads the platform facts for a chip (e.g. gpiochip3) on the running kernel.
func ReadPlatform(bench vocab.BenchKind, chipName string) Platform {
	p := Platform{Kernel: KernelRelease(), Bench: bench, Driver: ChipDriver(chipName)}
	if b, err := os.ReadFile(PersistParam); err == nil {
		p.Persist = vocab.ParsePersist(string(b))
	}
	return p
}

// ChipDriver is the kernel driver of a chip (e.g. gpiochip3) on the running kernel, e.g.
// gpio-sim or pinctrl-bcm2835; Unknown when sysfs does not say.
func ChipDriver(chipName string) string {
	// The gpiochip device itself is bound to gpiolib's stub driver; the chip's real driver is
	// its parent's, e.g. /sys/devices/platform/gpio-sim.0/driver -> .../gpio-sim.
	dir, err := filepath.EvalSymlinks(filepath.Join("/sys/bus/gpio/devices", chipName))
	if err != nil {
		return Unknown
	}
	d, err := os.Readlink(filepath.Join(filepath.Dir(dir), "driver"))
	if err != nil {
		return Unknown
	}
	return filepath.Base(d)
}

// KernelRelease is uname -r.
func KernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return Unknown
	}
	return unix.ByteSliceToString(u.Release[:])
}

// WriteTable writes observations as an aligned table, one line each.
func WriteTable(w io.Writer, obs []Observation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHIP\tLINE\tOFFSET\tDIRECTION\tLEVEL\tDRIVE\tPULL\tOWNER\tCONSUMER")
	for _, o := range obs {
		consumer := o.Consumer
		if consumer == "" {
			consumer = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Chip, o.Line, o.Offset, o.Direction, o.Level, o.Drive, o.Pull, o.Owner, consumer)
	}
	if len(obs) > 0 {
		p := obs[0].Platform
		fmt.Fprintf(tw, "\nbench %s, kernel %s, driver %s", p.Bench, p.Kernel, p.Driver)
		if p.Persist != "" {
			fmt.Fprintf(tw, ", persist_gpio_outputs %s", p.Persist)
		}
		fmt.Fprintf(tw, "; sees: %s\n", strings.Join(vocab.Strings(obs[0].Can.Fields()), ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeWhyUnknown(w, obs)
}

// writeWhyUnknown writes, under a table, why fields are unknown: one line per reason, naming
// the fields and the lines it holds for.
func writeWhyUnknown(w io.Writer, obs []Observation) error {
	type why struct{ fields, lines []string }
	var order []string
	byReason := map[string]*why{}
	for _, o := range obs {
		for _, f := range StateFields {
			r := o.WhyUnknown[f]
			if r == "" {
				continue
			}
			y := byReason[r]
			if y == nil {
				y = &why{}
				byReason[r] = y
				order = append(order, r)
			}
			if !slices.Contains(y.fields, string(f)) {
				y.fields = append(y.fields, string(f))
			}
			if !slices.Contains(y.lines, o.Line) {
				y.lines = append(y.lines, o.Line)
			}
		}
	}
	for _, r := range order {
		y := byReason[r]
		if _, err := fmt.Fprintf(w, "unknown %s (%s): %s\n", strings.Join(y.fields, ", "), strings.Join(y.lines, ", "), r); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes observations as indented JSON.
func WriteJSON(w io.Writer, obs []Observation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(obs)
}
