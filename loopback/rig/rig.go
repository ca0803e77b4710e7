// Package rig reads loopback rig files: which Raspberry Pi, which GPIO chip, which pins are
// joined by jumpers, and which lines gpiohil may touch at all.
//
// A rig file is strict YAML:
//
//	# A Pi 4 wired with the built-in plan's first two jumpers.
//	board: pi4-b              # required; one of the names in Boards
//	chip: pinctrl-bcm2711     # optional; the GPIO chip's label; default: the board's
//	pairs:                    # required; at least one
//	  - name: A               # optional; default A, B, C, ... by position
//	    line: GPIO17          # the line under test, by line name
//	    partner: GPIO18       # the pin joined to it by a jumper, which watches it
//	    resistor: 1k          # optional; series resistor in ohms: 330, 1k, 2k2, 4.7k
//	  - {line: GPIO27, partner: GPIO22}
//	may-touch: [GPIO17, GPIO18, GPIO27, GPIO22]   # required; every line gpiohil may request
//	allow-reserved: []        # optional; reserved header pins this rig uses anyway
//
// Lines are named GPIO0 to GPIO27, the BCM numbers, which are also the line offsets on every
// Pi's main GPIO chip. The chip is found by its label, never by its number: a Pi 5's header
// chip was gpiochip4 on early kernels and is gpiochip0 on later ones.
//
// Every problem is an *[Error] naming the file, line and column, so a person can fix the rig:
//
//	lab.yaml:7:14: pair B: partner "GPIO17" is already used by pair A
//
// A pair whose pin is reserved (see [header.Pin.Reserved]: the ID EEPROM, the fixed pull-ups of
// GPIO2 and GPIO3, the console, SPI0) is refused unless that line is listed in allow-reserved.
package rig

import (
	"github.com/gpiohil/gpiohil/harness/yamlcheck"

	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gpiohil/gpiohil/loopback/header"
)

// Board is a Raspberry Pi model with the 40-pin header.
type Board struct {
	Name  string // as written in rig files, e.g. pi4-b
	Model string // e.g. Raspberry Pi 4 Model B
	Chip  string // label of the GPIO chip that has the header's lines
}

// Boards lists the boards a rig may name. The chip labels are the kernel drivers' own: the
// bcm2835 pinctrl driver labels its chip pinctrl-bcm2835 on the Pi 1, 2, 3 and Zero and
// pinctrl-bcm2711 on the Pi 4; the Pi 5's RP1 southbridge driver labels it pinctrl-rp1.
var Boards = []Board{
	{"pi1-a-plus", "Raspberry Pi 1 Model A+", "pinctrl-bcm2835"},
	{"pi1-b-plus", "Raspberry Pi 1 Model B+", "pinctrl-bcm2835"},
	{"pi2-b", "Raspberry Pi 2 Model B", "pinctrl-bcm2835"},
	{"pi3-b", "Raspberry Pi 3 Model B", "pinctrl-bcm2835"},
	{"pi3-b-plus", "Raspberry Pi 3 Model B+", "pinctrl-bcm2835"},
	{"pi3-a-plus", "Raspberry Pi 3 Model A+", "pinctrl-bcm2835"},
	{"pi-zero", "Raspberry Pi Zero", "pinctrl-bcm2835"},
	{"pi-zero-w", "Raspberry Pi Zero W", "pinctrl-bcm2835"},
	{"pi-zero-2-w", "Raspberry Pi Zero 2 W", "pinctrl-bcm2835"},
	{"pi4-b", "Raspberry Pi 4 Model B", "pinctrl-bcm2711"},
	{"pi400", "Raspberry Pi 400", "pinctrl-bcm2711"},
	{"pi5", "Raspberry Pi 5", "pinctrl-rp1"},
	{"pi500", "Raspberry Pi 500", "pinctrl-rp1"},
}

// LookupBoard finds a board by name.
func LookupBoard(name string) (Board, bool) {
	i := slices.IndexFunc(Boards, func(b Board) bool { return b.Name == name })
	if i < 0 {
		return Board{}, false
	}
	return Boards[i], true
}

func boardNames() string {
	names := make([]string, len(Boards))
	for i, b := range Boards {
		names[i] = b.Name
	}
	return strings.Join(names, ", ")
}

// MaxResistor bounds the series resistor: the check and the probe read a pin through the
// jumper against the other pin's internal pull of about 50 kΩ, and assume the resistor is
// small beside it.
const MaxResistor = 10_000

// Pair is one jumper: the line under test and its partner.
type Pair struct {
	Name     string // "A"
	Line     string // line under test, e.g. GPIO17
	Partner  string // e.g. GPIO18
	Resistor int    // series resistor in ohms; 0 for none
	// ResistorText is the resistor as written, "1k".
	ResistorText string
	LinePin      header.Pin
	PartnerPin   header.Pin
	Pos          int // line of the pair in the rig file; 0 when made in code
}

// FixedPullUp reports whether either end has the board's fixed pull-up (GPIO2, GPIO3).
func (p Pair) FixedPullUp() bool { return p.LinePin.FixedPullUp || p.PartnerPin.FixedPullUp }

// Jumper returns the pair as a header jumper, for drawing and for Fit.
func (p Pair) Jumper() header.Jumper {
	return header.Jumper{Name: p.Name, Line: p.LinePin, Partner: p.PartnerPin, Resistor: p.ResistorText}
}

func (p Pair) String() string {
	return fmt.Sprintf("pair %s: %s under test, partner %s", p.Name, p.LinePin, p.PartnerPin)
}

// Rig is a checked rig file.
type Rig struct {
	File          string // as named in error messages; "" when made in code
	Board         Board
	Chip          string // chip label
	Pairs         []Pair
	MayTouch      []string
	AllowReserved []string
}

// PairOf returns the pair that a line belongs to, as its line under test or its partner.
func (r *Rig) PairOf(line string) (Pair, bool) {
	for _, p := range r.Pairs {
		if p.Line == line || p.Partner == line {
			return p, true
		}
	}
	return Pair{}, false
}

// Plan returns the rig's jumpers as a header plan, for drawing.
func (r *Rig) Plan() header.Plan {
	title := "board " + r.Board.Name
	if r.File != "" {
		title += ", rig " + r.File
	}
	p := header.Plan{Title: title}
	for _, pr := range r.Pairs {
		p.Jumpers = append(p.Jumpers, pr.Jumper())
	}
	return p
}

// Default returns a rig for board wired with the built-in plan (package header), touching the
// plan's lines only.
func Default(board string) (*Rig, error) {
	b, ok := LookupBoard(board)
	if !ok {
		return nil, fmt.Errorf("board %q: want one of %s", board, boardNames())
	}
	r := &Rig{Board: b, Chip: b.Chip}
	for _, j := range header.Default().Jumpers {
		r.Pairs = append(r.Pairs, Pair{Name: j.Name, Line: j.Line.Name(), Partner: j.Partner.Name(), LinePin: j.Line, PartnerPin: j.Partner})
		r.MayTouch = append(r.MayTouch, j.Line.Name(), j.Partner.Name())
	}
	return r, nil
}

// WriteYAML writes the rig as a rig file that Parse reads back.
func (r *Rig) WriteYAML() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# gpiohil loopback rig: %s\n", r.Board.Model)
	fmt.Fprintf(&b, "board: %s\nchip: %s\npairs:\n", r.Board.Name, r.Chip)
	for _, p := range r.Pairs {
		fmt.Fprintf(&b, "  - {name: %s, line: %s, partner: %s", p.Name, p.Line, p.Partner)
		if p.ResistorText != "" {
			fmt.Fprintf(&b, ", resistor: %s", p.ResistorText)
		}
		fmt.Fprintf(&b, "}   # %s\n", p.Jumper().Fit())
	}
	fmt.Fprintf(&b, "may-touch: [%s]\n", strings.Join(r.MayTouch, ", "))
	if len(r.AllowReserved) > 0 {
		fmt.Fprintf(&b, "allow-reserved: [%s]\n", strings.Join(r.AllowReserved, ", "))
	}
	return []byte(b.String())
}

// Error is a problem in a rig file, at a position in it (file:line:col).
type Error = yamlcheck.Error

// Load reads and checks the rig file at path.
func Load(path string) (*Rig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rig: %w", err)
	}
	return Parse(path, data)
}

// Parse checks the rig in data; file names it in error messages.
func Parse(file string, data []byte) (*Rig, error) {
	root, err := yamlcheck.Parse(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &Error{File: file, Line: 1, Msg: "empty rig file; want a mapping with board, pairs and may-touch"}
	}
	d := &decoder{file: file}
	return d.rig(root)
}

type decoder struct{ file string }

func (d *decoder) errf(n *yaml.Node, format string, args ...any) error {
	return yamlcheck.Decoder{File: d.file}.Errf(n, format, args...)
}

type field = yamlcheck.Field

// fields walks mapping n, called what in messages, and decodes each key with its field.
func (d *decoder) fields(n *yaml.Node, what string, fs []field) error {
	return yamlcheck.Decoder{File: d.file}.Fields(n, what, nil, fs)
}

var describe = yamlcheck.Describe

func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		return "", d.errf(n, "%s must be a non-empty string, got %s", what, describe(n))
	}
	return n.Value, nil
}

// lineName checks a line name and returns its header pin.
func (d *decoder) lineName(n *yaml.Node, what string) (string, header.Pin, error) {
	s, err := d.str(n, what)
	if err != nil {
		return "", header.Pin{}, err
	}
	pin, ok := header.ByName(s)
	if !ok {
		return "", header.Pin{}, d.errf(n, "%s %q is not a line of the 40-pin header; want GPIO0 to GPIO27", what, s)
	}
	return s, pin, nil
}

type lineRef struct {
	name string
	node *yaml.Node
}

func (d *decoder) rig(root *yaml.Node) (*Rig, error) {
	r := &Rig{File: d.file}
	var chipNode, pairsNode, touchNode *yaml.Node
	var touch, allow []lineRef
	err := d.fields(root, "the rig", []field{
		{Key: "board", Required: true, Decode: func(v *yaml.Node) error {
			name, err := d.str(v, "board")
			if err != nil {
				return err
			}
			b, ok := LookupBoard(name)
			if !ok {
				return d.errf(v, "unknown board %q; want one of %s", name, boardNames())
			}
			r.Board = b
			return nil
		}},
		{Key: "chip", Required: false, Decode: func(v *yaml.Node) (err error) {
			chipNode = v
			r.Chip, err = d.str(v, "chip")
			return err
		}},
		{Key: "pairs", Required: true, Decode: func(v *yaml.Node) error {
			pairsNode = v
			return d.pairs(r, v)
		}},
		{Key: "may-touch", Required: true, Decode: func(v *yaml.Node) (err error) {
			touchNode = v
			touch, err = d.lineList(v, "may-touch")
			return err
		}},
		{Key: "allow-reserved", Required: false, Decode: func(v *yaml.Node) (err error) {
			allow, err = d.lineList(v, "allow-reserved")
			return err
		}},
	})
	if err != nil {
		return nil, err
	}
	if chipNode == nil {
		r.Chip = r.Board.Chip
	}
	for _, t := range touch {
		r.MayTouch = append(r.MayTouch, t.name)
	}
	for _, a := range allow {
		pin, _ := header.ByName(a.name)
		if pin.Reserved == "" {
			return nil, d.errf(a.node, "allow-reserved: %s is not reserved; list only reserved pins here", pin)
		}
		if _, ok := r.PairOf(a.name); !ok {
			return nil, d.errf(a.node, "allow-reserved: %s is in no pair", pin)
		}
		r.AllowReserved = append(r.AllowReserved, a.name)
	}
	for i, p := range r.Pairs {
		for _, end := range []struct {
			role, name string
			pin        header.Pin
		}{{"line", p.Line, p.LinePin}, {"partner", p.Partner, p.PartnerPin}} {
			if !slices.Contains(r.MayTouch, end.name) {
				return nil, d.errf(touchNode, "may-touch does not list %s, the %s of pair %s (line %d); every pair line must be listed",
					end.name, end.role, p.Name, p.Pos)
			}
			if end.pin.Reserved != "" && !slices.Contains(r.AllowReserved, end.name) {
				return nil, d.errf(pairNode(pairsNode, i), "pair %s: %s is reserved: %s; use another pin, or list %s in allow-reserved to use it anyway",
					p.Name, end.pin, end.pin.Reserved, end.name)
			}
		}
	}
	return r, nil
}

func pairNode(pairs *yaml.Node, i int) *yaml.Node {
	if pairs != nil && i < len(pairs.Content) {
		return pairs.Content[i]
	}
	return pairs
}

func (d *decoder) lineList(v *yaml.Node, what string) ([]lineRef, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, d.errf(v, "%s must be a list of line names, got %s", what, describe(v))
	}
	var out []lineRef
	seen := map[string]int{}
	for _, n := range v.Content {
		name, _, err := d.lineName(n, what+" entry")
		if err != nil {
			return nil, err
		}
		if line, dup := seen[name]; dup {
			return nil, d.errf(n, "%s lists %s twice (first at line %d)", what, name, line)
		}
		seen[name] = n.Line
		out = append(out, lineRef{name, n})
	}
	return out, nil
}

func (d *decoder) pairs(r *Rig, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return d.errf(v, "pairs must be a list, got %s", describe(v))
	}
	if len(v.Content) == 0 {
		return d.errf(v, "pairs is empty; a rig needs at least one jumper")
	}
	used := map[string]string{} // line name -> pair name
	names := map[string]bool{}
	for i, n := range v.Content {
		p := Pair{Name: defaultName(i), Pos: n.Line}
		var lineNode, partnerNode *yaml.Node
		err := d.fields(n, fmt.Sprintf("pair %d", i+1), []field{
			{Key: "name", Required: false, Decode: func(v *yaml.Node) (err error) {
				if p.Name, err = d.str(v, "pair name"); err == nil && !header.ValidName(p.Name) {
					err = d.errf(v, "pair name %q: want 1 to 3 letters or digits, e.g. A", p.Name)
				}
				return err
			}},
			{Key: "line", Required: true, Decode: func(v *yaml.Node) (err error) {
				lineNode = v
				p.Line, p.LinePin, err = d.lineName(v, "line")
				return err
			}},
			{Key: "partner", Required: true, Decode: func(v *yaml.Node) (err error) {
				partnerNode = v
				p.Partner, p.PartnerPin, err = d.lineName(v, "partner")
				return err
			}},
			{Key: "resistor", Required: false, Decode: func(v *yaml.Node) (err error) {
				p.ResistorText, p.Resistor, err = d.resistor(v)
				return err
			}},
		})
		if err != nil {
			return err
		}
		if names[p.Name] {
			return d.errf(n, "pair name %q is used twice", p.Name)
		}
		names[p.Name] = true
		if p.Line == p.Partner {
			return d.errf(partnerNode, "pair %s: partner %s is the line under test itself; a jumper joins two different pins", p.Name, p.Partner)
		}
		for _, end := range []struct {
			name string
			node *yaml.Node
			role string
		}{{p.Line, lineNode, "line"}, {p.Partner, partnerNode, "partner"}} {
			if other, ok := used[end.name]; ok {
				return d.errf(end.node, "pair %s: %s %q is already used by pair %s", p.Name, end.role, end.name, other)
			}
			used[end.name] = p.Name
		}
		r.Pairs = append(r.Pairs, p)
	}
	return nil
}

func defaultName(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("P%d", i+1)
}

var resistorRE = regexp.MustCompile(`^(\d+)(?:([.,]\d+)?([kK])|([kKR])(\d*))?$`)

// ParseResistor reads a resistance written the way parts are labelled: 330, 330R, 1k, 1.5k,
// 2k2, 4K7. It returns ohms.
func ParseResistor(s string) (int, error) {
	m := resistorRE.FindStringSubmatch(strings.TrimSuffix(strings.TrimSuffix(s, "Ω"), "ohm"))
	if m == nil {
		return 0, fmt.Errorf("resistor %q: want ohms such as 330, 1k, 2k2 or 4.7k", s)
	}
	whole, _ := strconv.Atoi(m[1])
	switch {
	case m[3] != "": // 1.5k
		frac := 0.0
		if m[2] != "" {
			frac, _ = strconv.ParseFloat("0."+m[2][1:], 64)
		}
		return int(math.Round((float64(whole) + frac) * 1000)), nil
	case strings.EqualFold(m[4], "k"): // 2k2
		ohms := whole * 1000
		if m[5] != "" {
			frac, _ := strconv.ParseFloat("0."+m[5], 64)
			ohms += int(math.Round(frac * 1000))
		}
		return ohms, nil
	case m[4] == "R" && m[5] != "": // 4R7: below an ohm's precision, keep the whole ohms
		return whole, nil
	}
	return whole, nil
}

func (d *decoder) resistor(v *yaml.Node) (string, int, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", 0, d.errf(v, "resistor must be ohms such as 330, 1k or 2k2, got %s", describe(v))
	}
	ohms, err := ParseResistor(v.Value)
	if err != nil {
		return "", 0, d.errf(v, "%v", err)
	}
	if ohms <= 0 || ohms > MaxResistor {
		return "", 0, d.errf(v, "resistor %s is %d Ω; want more than 0 and at most %d Ω: the pins' ~50 kΩ pulls must still win through it (1 kΩ is the usual choice)",
			v.Value, ohms, MaxResistor)
	}
	return v.Value, ohms, nil
}
