// Package header describes the Raspberry Pi's 40-pin GPIO header, the same on every board from
// the Pi 1 B+ to the Pi 5 (Zero, 400 and 500 included), and draws loopback wiring plans on it.
//
// A loopback jumper joins two header pins: the line under test and its partner, the pin that
// watches it. [Default] is the built-in plan: eight jumpers, A to H, on pins that are free on a
// stock Raspberry Pi OS install, six of them between neighbouring pins so a plain jumper cap fits:
//
//	A  GPIO17 (pin 11) - GPIO18 (pin 12)   cap across the row
//	B  GPIO27 (pin 13) - GPIO22 (pin 15)   cap along the column
//	C  GPIO23 (pin 16) - GPIO24 (pin 18)   cap along the column
//	D  GPIO6  (pin 31) - GPIO12 (pin 32)   cap across the row
//	E  GPIO19 (pin 35) - GPIO16 (pin 36)   cap across the row
//	F  GPIO21 (pin 40) - GPIO20 (pin 38)   cap along the column
//	G  GPIO5  (pin 29) - GPIO13 (pin 33)   wire
//	H  GPIO26 (pin 37) - GPIO25 (pin 22)   wire
//
// The plan leaves alone the pins that are not plain GPIOs on a typical board ([Pin.Reserved]
// says why): GPIO0 and GPIO1 (the HAT ID EEPROM, read by the firmware at boot), GPIO2 and GPIO3
// (a fixed 1.8 kΩ pull-up to 3V3 on the board, which hides every pull the probe could see),
// GPIO14 and GPIO15 (the serial console) and GPIO7 to GPIO11 (SPI0). GPIO4 stays free as well:
// it has no free neighbour and is the default pin of the 1-Wire overlay.
//
// [WriteText] draws a plan as text for a terminal and [WriteSVG] as a picture; `gpiohil wiring`
// prints both.
package header

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is what a header pin is.
type Kind int

// Kinds of header pin.
const (
	GPIO Kind = iota
	Power3V3
	Power5V
	Ground
)

func (k Kind) String() string {
	return [...]string{"GPIO", "3V3", "5V", "GND"}[k]
}

// Pin is one pin of the 40-pin header.
type Pin struct {
	Number   int    // physical pin, 1 to 40; pin 1 is the square pad
	Kind     Kind   // GPIO, power or ground
	GPIO     int    // BCM GPIO number (the line offset on the Pi's GPIO chip); -1 for power and ground
	Function string // the pin's best-known other use, e.g. "I2C1 SDA"; "" if none worth naming
	// Reserved says why the built-in plan leaves a GPIO pin alone; "" for a free pin. A rig may
	// still use a reserved pin by naming it in allow-reserved.
	Reserved string
	// FixedPullUp is true for GPIO2 and GPIO3, which carry a 1.8 kΩ pull-up to 3V3 on every
	// 40-pin board: a pin's own 50 kΩ pull cannot move them, so pulled and floating look alike.
	FixedPullUp bool
}

// Name is the pin's line name, "GPIO17", or its power name, "3V3", "5V", "GND".
func (p Pin) Name() string {
	if p.Kind == GPIO {
		return "GPIO" + strconv.Itoa(p.GPIO)
	}
	return p.Kind.String()
}

func (p Pin) String() string { return fmt.Sprintf("%s (pin %d)", p.Name(), p.Number) }

// Reasons the built-in plan leaves a pin alone.
const (
	ReasonIDEEPROM = "HAT ID EEPROM (ID_SD/ID_SC): the firmware reads it at boot"
	ReasonPullUp   = "fixed 1.8 kΩ pull-up to 3V3 on the board: pulls and floating cannot be told apart"
	ReasonConsole  = "serial console (UART TXD/RXD)"
	ReasonSPI      = "SPI0, claimed when SPI is enabled"
)

// Pins is the header, Pins[n-1] being physical pin n.
var Pins = func() [40]Pin {
	var ps [40]Pin
	power := map[int]Kind{1: Power3V3, 17: Power3V3, 2: Power5V, 4: Power5V,
		6: Ground, 9: Ground, 14: Ground, 20: Ground, 25: Ground, 30: Ground, 34: Ground, 39: Ground}
	gpio := map[int]int{3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24,
		19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
		36: 16, 37: 26, 38: 20, 40: 21}
	function := map[int]string{0: "ID_SD", 1: "ID_SC", 2: "I2C1 SDA", 3: "I2C1 SCL", 4: "GPCLK0",
		7: "SPI0 CE1", 8: "SPI0 CE0", 9: "SPI0 MISO", 10: "SPI0 MOSI", 11: "SPI0 SCLK",
		12: "PWM0", 13: "PWM1", 14: "UART TXD", 15: "UART RXD", 18: "PCM CLK", 19: "PCM FS",
		20: "PCM DIN", 21: "PCM DOUT"}
	reserved := map[int]string{0: ReasonIDEEPROM, 1: ReasonIDEEPROM, 2: ReasonPullUp, 3: ReasonPullUp,
		14: ReasonConsole, 15: ReasonConsole, 7: ReasonSPI, 8: ReasonSPI, 9: ReasonSPI, 10: ReasonSPI, 11: ReasonSPI}
	for n := 1; n <= 40; n++ {
		p := Pin{Number: n, GPIO: -1}
		if k, ok := power[n]; ok {
			p.Kind = k
		} else {
			p.Kind, p.GPIO = GPIO, gpio[n]
			p.Function, p.Reserved = function[p.GPIO], reserved[p.GPIO]
			p.FixedPullUp = p.GPIO == 2 || p.GPIO == 3
		}
		ps[n-1] = p
	}
	return ps
}()

// ByName finds the header pin of a line name such as "GPIO17".
func ByName(name string) (Pin, bool) {
	n, ok := strings.CutPrefix(name, "GPIO")
	if !ok {
		return Pin{}, false
	}
	g, err := strconv.Atoi(n)
	if err != nil || strconv.Itoa(g) != n {
		return Pin{}, false
	}
	return ByGPIO(g)
}

// ByGPIO finds the header pin of a BCM GPIO number.
func ByGPIO(g int) (Pin, bool) {
	for _, p := range Pins {
		if p.Kind == GPIO && p.GPIO == g {
			return p, true
		}
	}
	return Pin{}, false
}

// Adjacent reports whether two pins are neighbours, across a row (11 and 12) or along a
// column (11 and 13), so a standard 2.54 mm jumper cap joins them.
func Adjacent(a, b Pin) bool { return across(a, b) || along(a, b) }

func across(a, b Pin) bool {
	lo, hi := min(a.Number, b.Number), max(a.Number, b.Number)
	return hi-lo == 1 && lo%2 == 1
}

func along(a, b Pin) bool { return max(a.Number, b.Number)-min(a.Number, b.Number) == 2 }

// Jumper is one loopback jumper of a plan.
type Jumper struct {
	Name     string // the letter that marks it, "A"
	Line     Pin    // the line under test
	Partner  Pin    // the pin that watches it
	Resistor string // series resistor as written in the rig ("1k"); "" for none
}

// Fit says how to make the jumper: a cap for neighbouring pins, else a wire.
func (j Jumper) Fit() string {
	lo, hi := min(j.Line.Number, j.Partner.Number), max(j.Line.Number, j.Partner.Number)
	switch {
	case j.Resistor != "":
		return fmt.Sprintf("wire with a %sΩ resistor in series, pin %d to pin %d", j.Resistor, lo, hi)
	case across(j.Line, j.Partner):
		return fmt.Sprintf("jumper cap across pins %d-%d", lo, hi)
	case along(j.Line, j.Partner):
		return fmt.Sprintf("jumper cap along pins %d-%d", lo, hi)
	}
	return fmt.Sprintf("female-female jumper wire, pin %d to pin %d", lo, hi)
}

// Plan is a set of jumpers on the header.
type Plan struct {
	Title   string // e.g. "board pi4-b, rig lab.yaml"
	Jumpers []Jumper
}

// Default is the built-in plan (see the package documentation).
func Default() Plan {
	pairs := [][2]int{{17, 18}, {27, 22}, {23, 24}, {6, 12}, {19, 16}, {21, 20}, {5, 13}, {26, 25}}
	p := Plan{Title: "built-in plan"}
	for i, pr := range pairs {
		l, _ := ByGPIO(pr[0])
		q, _ := ByGPIO(pr[1])
		p.Jumpers = append(p.Jumpers, Jumper{Name: string(rune('A' + i)), Line: l, Partner: q})
	}
	return p
}

// Check reports the first problem of a plan: a pin used twice, a pin that is not a GPIO, a
// jumper name used twice or not one to three letters and digits.
func (p Plan) Check() error {
	used := map[int]string{}
	names := map[string]bool{}
	for _, j := range p.Jumpers {
		if !ValidName(j.Name) {
			return fmt.Errorf("jumper name %q: want 1 to 3 letters or digits, e.g. A", j.Name)
		}
		if names[j.Name] {
			return fmt.Errorf("jumper name %q is used twice", j.Name)
		}
		names[j.Name] = true
		for _, pin := range []Pin{j.Line, j.Partner} {
			if pin.Kind != GPIO {
				return fmt.Errorf("jumper %s: pin %d is %s, not a GPIO", j.Name, pin.Number, pin.Kind)
			}
			if other, ok := used[pin.Number]; ok {
				return fmt.Errorf("jumper %s: %s is already used by jumper %s", j.Name, pin, other)
			}
			used[pin.Number] = j.Name
		}
	}
	return nil
}

// ValidName reports whether s can name a jumper (a rig's pair): 1 to 3 letters or digits.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// at returns the jumper on physical pin n and whether n is its line under test.
func (p Plan) at(n int) (j Jumper, underTest, ok bool) {
	for _, j := range p.Jumpers {
		if j.Line.Number == n {
			return j, true, true
		}
		if j.Partner.Number == n {
			return j, false, true
		}
	}
	return Jumper{}, false, false
}
