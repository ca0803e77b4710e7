package header_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/loopback/header"
)

func TestPins(t *testing.T) {
	gpios := map[int]bool{}
	for i, p := range header.Pins {
		if p.Number != i+1 {
			t.Errorf("Pins[%d].Number = %d", i, p.Number)
		}
		if p.Kind == header.GPIO {
			if gpios[p.GPIO] {
				t.Errorf("GPIO%d twice", p.GPIO)
			}
			gpios[p.GPIO] = true
		}
	}
	if len(gpios) != 28 {
		t.Errorf("%d GPIOs on the header; want 28 (GPIO0 to GPIO27)", len(gpios))
	}
	for name, pin := range map[string]int{"GPIO17": 11, "GPIO2": 3, "GPIO21": 40, "GPIO0": 27, "GPIO14": 8} {
		if p, ok := header.ByName(name); !ok || p.Number != pin {
			t.Errorf("ByName(%s) = pin %d, %v; want pin %d", name, p.Number, ok, pin)
		}
	}
	for _, bad := range []string{"GPIO28", "GPIO017", "gpio17", "GPIO", "3V3"} {
		if _, ok := header.ByName(bad); ok {
			t.Errorf("ByName(%q) found a pin", bad)
		}
	}
	for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15} {
		if p, _ := header.ByGPIO(n); p.Reserved == "" {
			t.Errorf("GPIO%d is not reserved", n)
		}
	}
	if p, _ := header.ByGPIO(2); !p.FixedPullUp {
		t.Error("GPIO2 has no fixed pull-up")
	}
}

// The built-in plan uses free pins only, each once, and jumper caps where pins are neighbours.
func TestDefaultPlan(t *testing.T) {
	p := header.Default()
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	caps := 0
	for _, j := range p.Jumpers {
		for _, pin := range []header.Pin{j.Line, j.Partner} {
			if pin.Reserved != "" {
				t.Errorf("jumper %s uses reserved %s: %s", j.Name, pin, pin.Reserved)
			}
		}
		if header.Adjacent(j.Line, j.Partner) {
			caps++
		}
	}
	if len(p.Jumpers) != 8 || caps != 6 {
		t.Errorf("%d jumpers, %d of them caps; want 8 and 6", len(p.Jumpers), caps)
	}
}

func TestCheck(t *testing.T) {
	g17, _ := header.ByName("GPIO17")
	g18, _ := header.ByName("GPIO18")
	for _, tc := range []struct {
		plan header.Plan
		want string
	}{
		{header.Plan{Jumpers: []header.Jumper{{Name: "A", Line: g17, Partner: g18}, {Name: "B", Line: g18, Partner: g17}}}, "jumper B: GPIO18 (pin 12) is already used by jumper A"},
		{header.Plan{Jumpers: []header.Jumper{{Name: "A", Line: g17, Partner: header.Pins[0]}}}, "jumper A: pin 1 is 3V3, not a GPIO"},
		{header.Plan{Jumpers: []header.Jumper{{Name: "A+", Line: g17, Partner: g18}}}, `jumper name "A+"`},
	} {
		if err := tc.plan.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check() = %v; want %q", err, tc.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	if err := header.WriteText(&b, header.Default()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"GPIO17 11 [A] [a] 12 GPIO18\n",
		"(fixed pull-up)  GPIO2  3 [-] [ ] 4  5V\n",
		"GPIO26 37 [H] [f] 38 GPIO20\n",
		"G   GPIO5 (pin 29)   under test, partner GPIO13 (pin 33)  female-female jumper wire, pin 29 to pin 33\n",
		"A   GPIO17 (pin 11)  under test, partner GPIO18 (pin 12)  jumper cap across pins 11-12\n",
		"B   GPIO27 (pin 13)  under test, partner GPIO22 (pin 15)  jumper cap along pins 13-15\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text drawing lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3+20+1+8+1 {
		t.Errorf("%d lines; want 33", n)
	}
}

// The SVG is well-formed XML with a mark for every jumper.
func TestWriteSVG(t *testing.T) {
	var b strings.Builder
	p := header.Default()
	p.Jumpers[0].Resistor = "1k"
	if err := header.WriteSVG(&b, p); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(b.String()))
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
	}
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg"`, "wire with a 1kΩ resistor in series", ">H</text>", "GPIO17 — A under test", "GPIO18 · PCM CLK — A partner"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}
