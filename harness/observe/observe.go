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
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

// Unknown is the value of every field a bench cannot see.
const Unknown = "unknown"

// Direction values.
const (
	Input  = "input"
	Output = "output"
)

// Drive values: what sets the level of the pin.
const (
	Driven   = "driven"   // an output drives it
	Pulled   = "pulled"   // not driven; a pull resistor (or gpio-sim's simulated pull) sets it
	Floating = "floating" // not driven and not pulled
)

// Pull values.
const (
	PullUp   = "pull-up"
	PullDown = "pull-down"
	PullNone = "none"
)

// Owner values.
const (
	Used = "used" // requested by a process (or the kernel); Consumer names it
	Free = "free"
)

// Capabilities a bench may have: the fields it can see.
const (
	CanDirection = "direction"
	CanLevel     = "level"
	CanDrive     = "drive"
	CanPull      = "pull"
	CanOwner     = "owner"
)

// Observation is the state of one line.
type Observation struct {
	Chip   string `json:"chip"` // chip label
	Line   string `json:"line"` // line name
	Offset int    `json:"offset"`

	Direction string `json:"direction"` // Input, Output or Unknown
	Level     string `json:"level"`     // "0", "1" or Unknown
	Drive     string `json:"drive"`     // Driven, Pulled, Floating or Unknown
	Pull      string `json:"pull"`      // PullUp, PullDown, PullNone or Unknown
	Owner     string `json:"owner"`     // Used, Free or Unknown
	Consumer  string `json:"consumer,omitempty"`

	Can      []string `json:"can"`      // what this bench can see
	Evidence []string `json:"evidence"` // how each field was found, in order

	Platform Platform `json:"platform"`
}

// New returns an Observation with every field Unknown.
func New(chip, line string, offset int, can []string, p Platform) Observation {
	return Observation{Chip: chip, Line: line, Offset: offset, Direction: Unknown, Level: Unknown,
		Drive: Unknown, Pull: Unknown, Owner: Unknown, Can: can, Platform: p}
}

// Evidencef records how a field was found.
func (o *Observation) Evidencef(format string, args ...any) {
	o.Evidence = append(o.Evidence, fmt.Sprintf(format, args...))
}

// Has reports whether the bench that made o can see field (one of the Can constants).
func (o Observation) Has(field string) bool {
	for _, c := range o.Can {
		if c == field {
			return true
		}
	}
	return false
}

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
	add(o.Direction)
	add(map[string]string{"0": "low", "1": "high"}[o.Level])
	add(o.Drive)
	if o.Drive != Driven {
		add(o.Pull)
	}
	if len(parts) == 0 {
		return Unknown
	}
	return strings.Join(parts, " ")
}

// Platform holds the facts an observation depends on.
type Platform struct {
	Kernel  string `json:"kernel"`            // kernel release
	Bench   string `json:"bench"`             // bench kind, e.g. gpio-sim
	Driver  string `json:"driver"`            // the chip's driver, e.g. gpio-sim, pinctrl-bcm2835
	Persist string `json:"persist,omitempty"` // pinctrl_bcm2835.persist_gpio_outputs where that module exists
}

// PersistParam is where the Raspberry Pi pinctrl driver's persist_gpio_outputs parameter lives.
const PersistParam = "/sys/module/pinctrl_bcm2835/parameters/persist_gpio_outputs"

// ReadPlatform reads the platform facts for a chip (e.g. gpiochip3) on the running kernel.
func ReadPlatform(bench, chipName string) Platform {
	p := Platform{Kernel: KernelRelease(), Bench: bench, Driver: Unknown}
	// The gpiochip device itself is bound to gpiolib's stub driver; the chip's real driver is
	// its parent's, e.g. /sys/devices/platform/gpio-sim.0/driver -> .../gpio-sim.
	if dir, err := filepath.EvalSymlinks(filepath.Join("/sys/bus/gpio/devices", chipName)); err == nil {
		if d, err := os.Readlink(filepath.Join(filepath.Dir(dir), "driver")); err == nil {
			p.Driver = filepath.Base(d)
		}
	}
	if b, err := os.ReadFile(PersistParam); err == nil {
		p.Persist = strings.TrimSpace(string(b))
	}
	return p
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
		fmt.Fprintf(tw, "; sees: %s\n", strings.Join(obs[0].Can, ", "))
	}
	return tw.Flush()
}

// WriteJSON writes observations as indented JSON.
func WriteJSON(w io.Writer, obs []Observation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(obs)
}
