// Package sim creates simulated GPIO chips with the kernel's gpio-sim module and describes them.
//
// Chips are created through configfs with github.com/warthog618/go-gpiosim (it owns the
// configfs layout and teardown order) and are named by label, never by the chip number the
// kernel hands out, which changes with whatever else the kernel has registered. Every line has
// a name, so programs find lines with gpiocdev.FindLine.
//
// A bank is written on the command line as LABEL=N (N lines named LABEL-0 ... LABEL-N-1) or
// LABEL=NAME,NAME,... (one line per name):
//
//	gpiohil vm run --sim gpiohil-a=8 --sim gpiohil-b=GPIO17,GPIO27 -- gpioinfo
package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/warthog618/go-gpiocdev"
	"github.com/warthog618/go-gpiosim"
)

// EnvVar is the environment variable through which a command learns the chips created for it:
// a JSON array of [Chip] (package runenv owns the name).
const EnvVar = runenv.EnvSim

// MaxLines bounds the lines of one bank, as gpio-sim's own limit is far above what any rig needs.
const MaxLines = 64

// Bank is one simulated chip to create.
type Bank struct {
	Label string   `json:"label"`
	Lines []string `json:"lines"` // line names, one per offset
}

// Chip is a simulated chip that exists.
type Chip struct {
	Label string   `json:"label"`
	Name  string   `json:"chip"`  // e.g. gpiochip3
	Dev   string   `json:"dev"`   // e.g. /dev/gpiochip3
	Sysfs string   `json:"sysfs"` // the device directory holding sim_gpio<N>/{value,pull}
	Lines []string `json:"lines"`
}

// validName reports whether s is 1 to 32 letters, digits, '_', '.' or '-', starting with a
// letter or digit: safe as a configfs value and in a shell. (A hand-written check rather than a
// regexp: this package is in the VM guest's init, where compiling a regexp costs 17 ms of boot.)
func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '.' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// ParseBank parses a bank written as LABEL=N or LABEL=NAME,NAME,...
func ParseBank(s string) (Bank, error) {
	label, lines, ok := strings.Cut(s, "=")
	if !ok {
		return Bank{}, fmt.Errorf("sim bank %q: want LABEL=N or LABEL=NAME,NAME,...", s)
	}
	if !validName(label) {
		return Bank{}, fmt.Errorf("sim bank %q: label %q must be 1 to 32 letters, digits, '_', '.' or '-'", s, label)
	}
	b := Bank{Label: label}
	if n, err := strconv.Atoi(lines); err == nil {
		if n < 1 || n > MaxLines {
			return Bank{}, fmt.Errorf("sim bank %q: %d lines is out of range 1 to %d", s, n, MaxLines)
		}
		for i := range n {
			b.Lines = append(b.Lines, fmt.Sprintf("%s-%d", label, i))
		}
		return b, nil
	}
	b.Lines = strings.Split(lines, ",")
	if len(b.Lines) > MaxLines {
		return Bank{}, fmt.Errorf("sim bank %q: %d lines is over the limit of %d", s, len(b.Lines), MaxLines)
	}
	seen := map[string]bool{}
	for _, n := range b.Lines {
		if !validName(n) {
			return Bank{}, fmt.Errorf("sim bank %q: line name %q must be 1 to 32 letters, digits, '_', '.' or '-'", s, n)
		}
		if seen[n] {
			return Bank{}, fmt.Errorf("sim bank %q: line name %q given twice", s, n)
		}
		seen[n] = true
	}
	return b, nil
}

// Validate checks that banks can be created together: labels and line names unique.
func Validate(banks []Bank) error {
	labels, names := map[string]bool{}, map[string]string{}
	for _, b := range banks {
		if labels[b.Label] {
			return fmt.Errorf("sim: label %q given to two banks; labels must be unique", b.Label)
		}
		labels[b.Label] = true
		if len(b.Lines) == 0 {
			return fmt.Errorf("sim: bank %q has no lines", b.Label)
		}
		for _, n := range b.Lines {
			if other, ok := names[n]; ok {
				return fmt.Errorf("sim: line name %q is in banks %q and %q; line names must be unique", n, other, b.Label)
			}
			names[n] = b.Label
		}
	}
	return nil
}

// Sim is a set of simulated chips that exist until Close.
type Sim struct {
	sim   *gpiosim.Sim
	chips []Chip
}

// Create makes the banks live as one gpio-sim device. It needs root and configfs with gpio-sim.
func Create(banks []Bank) (*Sim, error) {
	if err := Validate(banks); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/sys/kernel/config/gpio-sim"); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("sim: %w; creating gpio-sim chips needs root", err)
		}
	}
	var opts []gpiosim.NewSimOption
	for _, b := range banks {
		var lo []gpiosim.NewBankOption
		for i, n := range b.Lines {
			lo = append(lo, gpiosim.WithNamedLine(i, n))
		}
		opts = append(opts, gpiosim.WithBank(gpiosim.NewBank(b.Label, len(b.Lines), lo...)))
	}
	gs, err := gpiosim.NewSim(opts...)
	if err != nil {
		return nil, fmt.Errorf("sim: create chips %s: %w (is gpio-sim in the kernel, configfs mounted, and are you root?)", labelsOf(banks), err)
	}
	s := &Sim{sim: gs}
	for i := range gs.Chips {
		c := &gs.Chips[i]
		sysfs, err := filepath.EvalSymlinks(filepath.Join("/sys/bus/gpio/devices", c.ChipName()))
		if err != nil {
			gs.Close()
			return nil, fmt.Errorf("sim: find sysfs directory of %s (%s): %w", c.ChipName(), banks[i].Label, err)
		}
		s.chips = append(s.chips, Chip{Label: banks[i].Label, Name: c.ChipName(), Dev: c.DevPath(), Sysfs: sysfs, Lines: banks[i].Lines})
	}
	return s, nil
}

func labelsOf(banks []Bank) string {
	var l []string
	for _, b := range banks {
		l = append(l, b.Label)
	}
	return strings.Join(l, ", ")
}

// Chips describes the created chips, in the order of the banks given to Create.
func (s *Sim) Chips() []Chip { return s.chips }

// Sim returns the underlying go-gpiosim handle, for reading and setting sim pulls.
func (s *Sim) Sim() *gpiosim.Sim { return s.sim }

// Close removes the chips. Lines still requested are released by the kernel first.
func (s *Sim) Close() {
	if s.sim != nil {
		s.sim.Close()
		s.sim = nil
	}
}

// Env returns the EnvVar=JSON entry describing chips.
func Env(chips []Chip) string {
	b, _ := json.Marshal(chips)
	return EnvVar + "=" + string(b)
}

// FromEnv reads the chips described by EnvVar, as set by `gpiohil vm run --sim`.
func FromEnv() ([]Chip, error) {
	v, ok := runenv.Sim()
	if !ok {
		return nil, fmt.Errorf("sim: %s is not set; run under `gpiohil vm run --sim LABEL=N`", EnvVar)
	}
	return Parse(v)
}

// Parse reads chips as Env writes them.
func Parse(v string) ([]Chip, error) {
	var chips []Chip
	if err := json.Unmarshal([]byte(v), &chips); err != nil {
		return nil, fmt.Errorf("sim: %s: %w", EnvVar, err)
	}
	return chips, nil
}

// HostHasGPIOSim reports whether the running kernel offers gpio-sim through configfs and this
// process may use it (root), so tests and suites can run on the host without the VM.
func HostHasGPIOSim() bool {
	if os.Geteuid() != 0 {
		return false
	}
	_, err := os.Stat("/sys/kernel/config/gpio-sim")
	return err == nil
}

// Find returns the chip with the given label.
func Find(chips []Chip, label string) (Chip, error) {
	for _, c := range chips {
		if c.Label == label {
			return c, nil
		}
	}
	return Chip{}, fmt.Errorf("sim: no chip labelled %q (have %s)", label, chipLabels(chips))
}

// ChipFromEnv is Find on FromEnv: the chip with the given label among those `gpiohil vm run
// --sim` created.
func ChipFromEnv(label string) (Chip, error) {
	chips, err := FromEnv()
	if err != nil {
		return Chip{}, err
	}
	return Find(chips, label)
}

func chipLabels(chips []Chip) string {
	if len(chips) == 0 {
		return "none"
	}
	var l []string
	for _, c := range chips {
		l = append(l, c.Label)
	}
	return strings.Join(l, ", ")
}

// Attr returns the path of a line's sim attribute (value or pull).
func (c Chip) Attr(offset int, attr string) string {
	return filepath.Join(c.Sysfs, fmt.Sprintf("sim_gpio%d", offset), attr)
}

// Lookup finds an existing gpio-sim chip by label on the running kernel, with its line names.
func Lookup(label string) (Chip, error) {
	var seen []string
	for _, name := range gpiocdev.Chips() {
		c, err := gpiocdev.NewChip(name)
		if err != nil {
			continue
		}
		if c.Label != label {
			seen = append(seen, c.Label)
			c.Close()
			continue
		}
		defer c.Close()
		sysfs, err := filepath.EvalSymlinks(filepath.Join("/sys/bus/gpio/devices", name))
		if err != nil {
			return Chip{}, fmt.Errorf("sim: chip %q (%s): %w", label, name, err)
		}
		if _, err := os.Stat(filepath.Join(sysfs, "sim_gpio0")); err != nil {
			return Chip{}, fmt.Errorf("sim: chip %q (%s) is not a gpio-sim chip (no sim_gpio0 in %s)", label, name, sysfs)
		}
		ch := Chip{Label: label, Name: name, Dev: filepath.Join("/dev", name), Sysfs: sysfs}
		for i := range c.Lines() {
			info, err := c.LineInfo(i)
			if err != nil {
				return Chip{}, fmt.Errorf("sim: line info of %s offset %d: %w", name, i, err)
			}
			ch.Lines = append(ch.Lines, info.Name)
		}
		return ch, nil
	}
	if len(seen) == 0 {
		return Chip{}, fmt.Errorf("sim: no chip labelled %q: this kernel has no GPIO chips", label)
	}
	return Chip{}, fmt.Errorf("sim: no chip labelled %q (chips here: %s)", label, strings.Join(seen, ", "))
}
