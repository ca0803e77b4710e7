package rig_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/loopback/rig"
)

const good = `# two jumpers on a Pi 4
board: pi4-b
pairs:
  - name: A
    line: GPIO17
    partner: GPIO18
    resistor: 1k
  - {line: GPIO27, partner: GPIO22}
may-touch: [GPIO17, GPIO18, GPIO27, GPIO22]
`

func TestParse(t *testing.T) {
	r, err := rig.Parse("lab.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if r.Board.Name != "pi4-b" || r.Chip != "pinctrl-bcm2711" {
		t.Errorf("board %q chip %q; want pi4-b and its chip pinctrl-bcm2711", r.Board.Name, r.Chip)
	}
	if len(r.Pairs) != 2 {
		t.Fatalf("pairs = %+v", r.Pairs)
	}
	a, b := r.Pairs[0], r.Pairs[1]
	if a.Name != "A" || a.Line != "GPIO17" || a.Partner != "GPIO18" || a.Resistor != 1000 || a.LinePin.Number != 11 || a.PartnerPin.Number != 12 || a.Pos != 4 {
		t.Errorf("pair A = %+v", a)
	}
	if b.Name != "B" || b.Resistor != 0 || b.LinePin.Number != 13 || b.PartnerPin.Number != 15 {
		t.Errorf("pair B = %+v (want the default name B)", b)
	}
	if p, ok := r.PairOf("GPIO22"); !ok || p.Name != "B" {
		t.Errorf("PairOf(GPIO22) = %v, %v", p, ok)
	}
}

// A malformed rig file names the file, line and column of the problem, and says what is wanted.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "r.yaml:1: empty rig file; want a mapping with board, pairs and may-touch"},
		{"not yaml", "board: [pi4-b\n", "r.yaml:1: not valid YAML: did not find expected ',' or ']'"},
		{"unknown key", "board: pi4-b\nboards: x\n", `r.yaml:2:1: unknown key "boards" in the rig; known keys: board, chip, pairs, may-touch, allow-reserved`},
		{"missing key", "board: pi4-b\npairs: [{line: GPIO17, partner: GPIO18}]\n", `r.yaml:1:1: the rig has no "may-touch", which is required`},
		{"unknown board", "board: pi6\n", `r.yaml:1:8: unknown board "pi6"; want one of pi1-a-plus,`},
		{"duplicate key", "board: pi4-b\nboard: pi5\n", `r.yaml:2:1: duplicate key "board" in the rig (first at line 1)`},
		{"pairs not a list", "board: pi4-b\npairs: {line: GPIO17}\nmay-touch: []\n", "r.yaml:2:8: pairs must be a list, got a mapping"},
		{"no pairs", "board: pi4-b\npairs: []\nmay-touch: []\n", "r.yaml:2:8: pairs is empty; a rig needs at least one jumper"},
		{"unknown pair key", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18, ohms: 1k}\nmay-touch: [GPIO17, GPIO18]\n",
			`r.yaml:3:37: unknown key "ohms" in pair 1; known keys: name, line, partner, resistor`},
		{"missing partner", "board: pi4-b\npairs:\n  - line: GPIO17\nmay-touch: [GPIO17]\n", `r.yaml:3:5: pair 1 has no "partner", which is required`},
		{"not a header line", "board: pi4-b\npairs:\n  - {line: GPIO30, partner: GPIO18}\nmay-touch: []\n",
			`r.yaml:3:12: line "GPIO30" is not a line of the 40-pin header; want GPIO0 to GPIO27`},
		{"line name", "board: pi4-b\npairs:\n  - {line: 17, partner: GPIO18}\nmay-touch: []\n",
			`r.yaml:3:12: line "17" is not a line of the 40-pin header`},
		{"self jumper", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO17}\nmay-touch: [GPIO17]\n",
			"r.yaml:3:29: pair A: partner GPIO17 is the line under test itself; a jumper joins two different pins"},
		{"line used twice", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18}\n  - {line: GPIO27, partner: GPIO17}\nmay-touch: [GPIO17, GPIO18, GPIO27]\n",
			`r.yaml:4:29: pair B: partner "GPIO17" is already used by pair A`},
		{"duplicate name", "board: pi4-b\npairs:\n  - {name: X, line: GPIO17, partner: GPIO18}\n  - {name: X, line: GPIO27, partner: GPIO22}\nmay-touch: [GPIO17, GPIO18, GPIO27, GPIO22]\n",
			`r.yaml:4:5: pair name "X" is used twice`},
		{"bad resistor", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18, resistor: lots}\nmay-touch: [GPIO17, GPIO18]\n",
			`r.yaml:3:47: resistor "lots": want ohms such as 330, 1k, 2k2 or 4.7k`},
		{"resistor too large", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18, resistor: 47k}\nmay-touch: [GPIO17, GPIO18]\n",
			"r.yaml:3:47: resistor 47k is 47000 Ω; want more than 0 and at most 10000 Ω"},
		{"not in may-touch", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18}\nmay-touch: [GPIO17]\n",
			"r.yaml:4:12: may-touch does not list GPIO18, the partner of pair A (line 3); every pair line must be listed"},
		{"may-touch twice", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18}\nmay-touch: [GPIO17, GPIO18, GPIO17]\n",
			"r.yaml:4:29: may-touch lists GPIO17 twice (first at line 4)"},
		{"reserved pin", "board: pi4-b\npairs:\n  - {line: GPIO2, partner: GPIO18}\nmay-touch: [GPIO2, GPIO18]\n",
			"r.yaml:3:5: pair A: GPIO2 (pin 3) is reserved: fixed 1.8 kΩ pull-up to 3V3 on the board: pulls and floating cannot be told apart; use another pin, or list GPIO2 in allow-reserved to use it anyway"},
		{"console pin", "board: pi5\npairs:\n  - {line: GPIO17, partner: GPIO14}\nmay-touch: [GPIO17, GPIO14]\n",
			"r.yaml:3:5: pair A: GPIO14 (pin 8) is reserved: serial console (UART TXD/RXD)"},
		{"allow-reserved not reserved", "board: pi4-b\npairs:\n  - {line: GPIO17, partner: GPIO18}\nmay-touch: [GPIO17, GPIO18]\nallow-reserved: [GPIO17]\n",
			"r.yaml:5:18: allow-reserved: GPIO17 (pin 11) is not reserved; list only reserved pins here"},
		{"chip not a string", "board: pi4-b\nchip: [a]\n", "r.yaml:2:7: chip must be a non-empty string, got a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rig.Parse("r.yaml", []byte(tc.yaml))
			var re *rig.Error
			if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse error:\n  %v\nwant one starting with:\n  %s", err, tc.want)
			}
		})
	}
}

func TestAllowReserved(t *testing.T) {
	r, err := rig.Parse("r.yaml", []byte("board: pi3-b\nchip: my-chip\npairs:\n  - {line: GPIO2, partner: GPIO18}\nmay-touch: [GPIO2, GPIO18, GPIO4]\nallow-reserved: [GPIO2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Chip != "my-chip" || !r.Pairs[0].FixedPullUp() || len(r.MayTouch) != 3 {
		t.Errorf("rig = %+v", r)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := rig.Load(path)
	if err != nil || r.File != path {
		t.Fatalf("Load = %v, %v", r, err)
	}
	if _, err := rig.Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("Load of a missing file = %v", err)
	}
}

// The built-in plan, written as a rig file, reads back as the same rig.
func TestDefaultRoundTrip(t *testing.T) {
	for _, b := range rig.Boards {
		r, err := rig.Default(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		back, err := rig.Parse("default.yaml", r.WriteYAML())
		if err != nil {
			t.Fatalf("%s: %v\n%s", b.Name, err, r.WriteYAML())
		}
		if len(back.Pairs) != 8 || back.Chip != b.Chip || back.Pairs[7].Line != "GPIO26" || back.Pairs[7].Partner != "GPIO25" {
			t.Errorf("%s: read back %+v", b.Name, back)
		}
	}
	if _, err := rig.Default("pi9"); err == nil {
		t.Error("Default(pi9) succeeded")
	}
}

func TestParseResistor(t *testing.T) {
	for in, want := range map[string]int{"330": 330, "330R": 330, "1k": 1000, "1K": 1000, "2k2": 2200, "4K7": 4700, "4.7k": 4700, "1.15k": 1150, "10k": 10000, "1kΩ": 1000, "470ohm": 470} {
		if got, err := rig.ParseResistor(in); err != nil || got != want {
			t.Errorf("ParseResistor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "1M", "-1", "1 k", "abc"} {
		if _, err := rig.ParseResistor(in); err == nil {
			t.Errorf("ParseResistor(%q) succeeded", in)
		}
	}
}
