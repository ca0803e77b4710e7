package jumper

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// MidRail says what an input reads when a pull-up and a pull-down hold the same wire against
// each other and nothing drives it. On a board the wire sits near half of 3V3, which is not a
// defined logic level; the wire cannot model a voltage, so it picks one of these.
type MidRail int

// Ways to read mid-rail.
const (
	// MidRailKeep keeps the level the wire had, like an input with hysteresis whose threshold
	// band holds the mid-rail voltage. The default: it is the reading that makes the most
	// states look alike from the partner, so it tests the probe's ambiguity reports hardest.
	MidRailKeep MidRail = iota
	// MidRailLow reads 0, like an input whose high threshold is above half the supply.
	MidRailLow
	// MidRailHigh reads 1, like an input whose high threshold is below half the supply.
	MidRailHigh
)

func (m MidRail) String() string {
	return [...]string{"keep", "low", "high"}[m]
}

type faultKind int

const (
	faultOpen faultKind = iota
	faultCrossed
	faultBridged
	faultShort
	faultStuck
)

// Fault is a wiring fault the simulated wire injects.
type Fault struct {
	kind  faultKind
	a, b  string
	level int
}

func (f Fault) String() string {
	switch f.kind {
	case faultOpen:
		return fmt.Sprintf("open jumper at %s", f.a)
	case faultCrossed:
		return fmt.Sprintf("jumpers at %s and %s crossed", f.a, f.b)
	case faultBridged:
		return fmt.Sprintf("jumpers at %s and %s bridged", f.a, f.b)
	case faultShort:
		return fmt.Sprintf("%s shorted to %s", f.a, map[int]string{0: "GND", 1: "3V3"}[f.level])
	}
	return fmt.Sprintf("%s stuck %s", f.a, map[int]string{0: "low", 1: "high"}[f.level])
}

// Open removes the jumper at line: each of its ends sees only itself.
func Open(line string) Fault { return Fault{kind: faultOpen, a: line} }

// Crossed swaps the far ends of the jumpers at lineA and lineB, as when two jumpers are fitted
// to the wrong pins: lineA ends up joined to lineB's partner and lineB to lineA's.
func Crossed(lineA, lineB string) Fault { return Fault{kind: faultCrossed, a: lineA, b: lineB} }

// Bridged joins the wires of the jumpers at lineA and lineB into one, as a stray jumper or a
// solder bridge would.
func Bridged(lineA, lineB string) Fault { return Fault{kind: faultBridged, a: lineA, b: lineB} }

// ShortToGND forces the wire at line low: every end on it reads 0, whatever drives it.
func ShortToGND(line string) Fault { return Fault{kind: faultShort, a: line, level: 0} }

// ShortTo3V3 forces the wire at line high.
func ShortTo3V3(line string) Fault { return Fault{kind: faultShort, a: line, level: 1} }

// Stuck makes line read level whatever happens, and cuts it off the wire: neither its pull nor
// its driver reach the other end (a damaged pad).
func Stuck(line string, level int) Fault { return Fault{kind: faultStuck, a: line, level: level} }

// endState is what one end of a wire contributes.
type endState struct {
	name   string
	pull   vocab.Pull // the end's own pull resistor
	driven bool
	value  int // when driven
}

// net is one electrical node: the ends joined together.
type net struct {
	ends  []string
	force *int // a short (or a stuck pad) fixes the level
	stuck bool // force comes from a stuck pad: its own driver fighting it is not contention
	level int
	fight bool // contention now
}

func (n *net) String() string { return strings.Join(n.ends, "+") }

// Contention is a moment when two drivers (or a driver and a short) fought on one wire. On a
// board that is a short circuit through the pins' drivers; the safety interlock exists so that
// gpiohil never causes one.
type Contention struct {
	At      time.Time
	Wire    string // the ends, joined by "+"
	Message string
}

func (c Contention) String() string { return c.Message }

// build makes the nets of a board from its jumpers and faults.
func build(jumpers [][2]string, faults []Fault) ([]*net, error) {
	var nets []*net
	find := func(line string) (*net, int) {
		for i, n := range nets {
			if slices.Contains(n.ends, line) {
				return n, i
			}
		}
		return nil, -1
	}
	for _, j := range jumpers {
		for _, l := range j {
			if n, _ := find(l); n != nil {
				return nil, fmt.Errorf("jumper: line %s is on two jumpers", l)
			}
		}
		if j[0] == j[1] {
			return nil, fmt.Errorf("jumper: jumper joins %s to itself", j[0])
		}
		nets = append(nets, &net{ends: []string{j[0], j[1]}})
	}
	need := func(line string) (*net, int, error) {
		n, i := find(line)
		if n == nil {
			return nil, -1, fmt.Errorf("jumper: fault names %s, which is on no jumper", line)
		}
		return n, i, nil
	}
	for _, f := range faults {
		switch f.kind {
		case faultOpen:
			n, i, err := need(f.a)
			if err != nil {
				return nil, err
			}
			nets = slices.Delete(nets, i, i+1)
			for _, e := range n.ends {
				nets = append(nets, &net{ends: []string{e}, force: n.force})
			}
		case faultCrossed:
			na, _, err := need(f.a)
			if err != nil {
				return nil, err
			}
			nb, _, err := need(f.b)
			if err != nil {
				return nil, err
			}
			if na == nb || len(na.ends) != 2 || len(nb.ends) != 2 {
				return nil, fmt.Errorf("jumper: cannot cross %s and %s: they must be on two different plain jumpers", f.a, f.b)
			}
			farA, farB := other(na.ends, f.a), other(nb.ends, f.b)
			na.ends, nb.ends = []string{f.a, farB}, []string{f.b, farA}
		case faultBridged:
			na, _, err := need(f.a)
			if err != nil {
				return nil, err
			}
			nb, ib, err := need(f.b)
			if err != nil {
				return nil, err
			}
			if na == nb {
				return nil, fmt.Errorf("jumper: %s and %s are already on one wire", f.a, f.b)
			}
			na.ends = append(na.ends, nb.ends...)
			nets = slices.Delete(nets, ib, ib+1)
		case faultShort:
			n, _, err := need(f.a)
			if err != nil {
				return nil, err
			}
			lvl := f.level
			n.force = &lvl
		case faultStuck:
			n, i, err := need(f.a)
			if err != nil {
				return nil, err
			}
			n.ends = slices.DeleteFunc(n.ends, func(e string) bool { return e == f.a })
			if len(n.ends) == 0 {
				nets = slices.Delete(nets, i, i+1)
			}
			lvl := f.level
			nets = append(nets, &net{ends: []string{f.a}, force: &lvl, stuck: true})
		}
	}
	return nets, nil
}

func other(pair []string, line string) string {
	if pair[0] == line {
		return pair[1]
	}
	return pair[0]
}

// resolve sets the net's level from its ends' states and reports a contention that has just
// begun ("" otherwise).
func (n *net) resolve(ends map[string]*endState, mid MidRail) string {
	var high, low []string
	ups, downs := 0, 0
	for _, name := range n.ends {
		e := ends[name]
		switch {
		case e.driven && e.value == 1:
			high = append(high, name)
		case e.driven:
			low = append(low, name)
		case e.pull == vocab.PullUp:
			ups++
		case e.pull == vocab.PullDown:
			downs++
		}
	}
	fight := ""
	switch {
	case n.force != nil:
		n.level = *n.force
		against := high
		if n.level == 1 {
			against = low
		}
		if len(against) > 0 && !n.stuck {
			fight = fmt.Sprintf("%s driven %s into a short to %s", strings.Join(against, ", "),
				map[int]string{0: "high", 1: "low"}[n.level], map[int]string{0: "GND", 1: "3V3"}[n.level])
		}
	case len(high) > 0 && len(low) > 0:
		// A fight between drivers: on a board, a short circuit. The wire reads low here.
		n.level = 0
		fight = fmt.Sprintf("%s driven high while %s driven low on one wire", strings.Join(high, ", "), strings.Join(low, ", "))
	case len(high) > 0:
		n.level = 1
	case len(low) > 0:
		n.level = 0
	case ups > 0 && downs > 0:
		switch mid {
		case MidRailLow:
			n.level = 0
		case MidRailHigh:
			n.level = 1
		}
	case ups > 0:
		n.level = 1
	case downs > 0:
		n.level = 0
	}
	// Nothing drives or pulls it: the wire floats and keeps its charge (its last level).
	began := fight != "" && !n.fight
	n.fight = fight != ""
	if began {
		return fight
	}
	return ""
}
