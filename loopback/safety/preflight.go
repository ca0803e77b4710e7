package safety

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/warthog618/go-gpiocdev"
)

// UnavailableError says why a rig line must not be touched at all.
type UnavailableError struct {
	Line   string
	Reason string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("line %s is not available to gpiohil: %s", e.Line, e.Reason)
}

// Unwrap makes UnavailableError match ErrRefused.
func (e *UnavailableError) Unwrap() error { return ErrRefused }

// DebugFS is where debugfs is mounted.
const DebugFS = "/sys/kernel/debug"

// Preflight checks, before anything is requested, that each line (name to offset) is free and
// muxed as a GPIO. It returns the lines that must not be touched, with why, and notes on what
// could not be checked. A line in use is refused whoever uses it: line info cannot tell a
// kernel driver (a 1-Wire or LED overlay) from a program, and neither is gpiohil's to change.
// The pin function comes from the pin controller's debugfs files (root only); when they cannot
// be read the check is skipped with a note.
func Preflight(chip *gpiocdev.Chip, label string, lines map[string]int, debugfs string) (map[string]error, []string) {
	bad := map[string]error{}
	var notes []string
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		info, err := chip.LineInfo(lines[name])
		if err != nil {
			bad[name] = &UnavailableError{Line: name, Reason: fmt.Sprintf("no line info at offset %d of %s: %v", lines[name], label, err)}
			continue
		}
		if info.Used {
			who := "an unnamed consumer (a kernel driver, or a pin claimed by a device tree overlay)"
			if info.Consumer != "" {
				who = fmt.Sprintf("%q", info.Consumer)
			}
			bad[name] = &UnavailableError{Line: name, Reason: fmt.Sprintf("it is in use by %s; gpiohil does not touch lines it does not own: end that program, or remove the overlay, or wire another pin", who)}
		}
	}
	mux, where, err := ReadMux(debugfs, label)
	switch {
	case err != nil:
		notes = append(notes, fmt.Sprintf("pin functions not checked: %v", err))
	case mux == nil:
		notes = append(notes, fmt.Sprintf("pin functions not checked: no pin controller for %s in %s (gpio-sim has none)", label, debugfs))
	default:
		for _, name := range names {
			m, ok := mux[lines[name]]
			if !ok || bad[name] != nil {
				continue
			}
			if why := m.Away(); why != "" {
				bad[name] = &UnavailableError{Line: name, Reason: fmt.Sprintf("the pin is muxed away from GPIO (%s, from %s); disable that interface in config.txt or wire another pin", why, where)}
			}
		}
	}
	return bad, notes
}

// Mux is what the pin controller's debugfs says about one pin.
type Mux struct {
	Function string // from "pins": the selected function, e.g. gpio_in, gpio_out, alt0; "" if not shown
	Owner    string // from "pinmux-pins": the device that claimed the mux, e.g. fe804000.i2c; "" if none
	Group    string // the claimed function's name in pinmux-pins, e.g. i2c1
}

// Away says why the pin is not a GPIO now, or "" if it is (or nothing says otherwise).
func (m Mux) Away() string {
	switch {
	case m.Owner != "" && !strings.HasPrefix(m.Group, "gpio"):
		s := "claimed by " + m.Owner
		if m.Group != "" {
			s += " for " + m.Group
		}
		return s
	case m.Function != "" && !strings.HasPrefix(m.Function, "gpio"):
		return "function " + m.Function
	}
	return ""
}

// ReadMux reads the pin functions of the pin controller whose debugfs directory is named after
// label (e.g. fe200000.gpio-pinctrl-bcm2711 for pinctrl-bcm2711). It returns nil and no error
// when there is no such controller, and where it read from.
func ReadMux(debugfs, label string) (map[int]Mux, string, error) {
	dirs, err := filepath.Glob(filepath.Join(debugfs, "pinctrl", "*"))
	if err != nil {
		return nil, "", err
	}
	if len(dirs) == 0 {
		if _, err := os.Stat(filepath.Join(debugfs, "pinctrl")); err != nil {
			return nil, "", fmt.Errorf("cannot read %s (mounted? root?): %v", filepath.Join(debugfs, "pinctrl"), err)
		}
	}
	for _, d := range dirs {
		base := filepath.Base(d)
		if base != label && !strings.HasSuffix(base, "-"+label) {
			continue
		}
		mux := map[int]Mux{}
		if f, err := os.Open(filepath.Join(d, "pins")); err == nil {
			for pin, fn := range ParsePins(f) {
				m := mux[pin]
				m.Function = fn
				mux[pin] = m
			}
			f.Close()
		} else {
			return nil, d, fmt.Errorf("read %s: %v", filepath.Join(d, "pins"), err)
		}
		if f, err := os.Open(filepath.Join(d, "pinmux-pins")); err == nil {
			for pin, pm := range ParsePinmuxPins(f) {
				m := mux[pin]
				m.Owner, m.Group = pm.Owner, pm.Group
				mux[pin] = m
			}
			f.Close()
		}
		return mux, d, nil
	}
	return nil, "", nil
}

var (
	pinsRE   = regexp.MustCompile(`^pin (\d+) \([^)]*\) .*?\bfunction (\S+)`)
	pinmuxRE = regexp.MustCompile(`^pin (\d+) \([^)]*\): (.*)$`)
)

// ParsePins reads a pin controller's debugfs "pins" file and returns each pin's function where
// the driver shows one, as pinctrl-bcm2835 does:
//
//	pin 17 (gpio17) 17:pinctrl-bcm2711 function gpio_in in lo; irq 0 (none)
func ParsePins(r io.Reader) map[int]string {
	out := map[int]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := pinsRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		out[n] = strings.TrimSuffix(m[2], ";")
	}
	return out
}

// ParsePinmuxPins reads a pin controller's debugfs "pinmux-pins" file, whose lines are
//
//	pin 2 (gpio2): fe804000.i2c (GPIO UNCLAIMED) function i2c1 group i2c1_gpio2
//	pin 17 (gpio17): (MUX UNCLAIMED) pinctrl-bcm2711:529
//
// (non-strict controllers), or "pin N (name): device X function F group G" (strict ones).
func ParsePinmuxPins(r io.Reader) map[int]Mux {
	out := map[int]Mux{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := pinmuxRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		rest := m[2]
		var mx Mux
		if i := strings.Index(rest, " function "); i >= 0 {
			f := strings.Fields(rest[i+len(" function "):])
			if len(f) > 0 {
				mx.Group = f[0]
			}
			rest = rest[:i]
		}
		switch {
		case strings.HasPrefix(rest, "(MUX UNCLAIMED)"), strings.HasPrefix(rest, "UNCLAIMED"), strings.HasPrefix(rest, "GPIO "):
		case strings.HasPrefix(rest, "device "):
			mx.Owner = strings.Fields(rest)[1]
		default:
			if f := strings.Fields(rest); len(f) > 0 {
				mx.Owner = f[0]
			}
		}
		if mx.Owner != "" || mx.Group != "" {
			out[n] = mx
		}
	}
	return out
}
