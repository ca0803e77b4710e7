// Package timeline is what a line did between a tool's start and the observation after it,
// not only where it ended: every change of its direction, level, drive and owner, each with
// when it happened and which source saw it; and what follows from them: how long a pulse was
// held, whether a line stayed steady across a handover from one process to the next, or the
// level and length of its gap.
//
// A Timeline is built by the benches from their own sources (the kernel's line-info events,
// gpiolib's trace events, the emulated Pi's register writes, a loopback partner's edges); this
// package is pure logic: it folds the events into spans of one state and reads answers from
// them. Times are durations from the timeline's zero (the first tool's start); when the clock
// is an emulated machine's, durations are its, and say only the order and rough size of what
// happened on real hardware (Emulated).
package timeline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Source names who saw an event.
type Source string

// The sources.
const (
	LineInfo  Source = "line-info"  // the kernel's line-info change events: requests, reconfigurations, releases
	GPIOTrace Source = "gpio-trace" // gpiolib's trace events gpio_direction and gpio_value
	Driver    Source = "driver"     // what the chip's driver is known to do at an event another source saw
	Registers Source = "registers"  // QEMU's trace of the writes to the emulated Pi's GPIO block
	Observer  Source = "observer"   // the bench's observation of the line
	Partner   Source = "partner"    // edges on the loopback partner pin of a real board
)

// Event is one change of the line: the fields it gives are the line's from then on; the fields
// it leaves empty keep their value.
type Event struct {
	At        time.Duration   `json:"at"` // from the timeline's zero
	Source    Source          `json:"source"`
	What      string          `json:"what"` // what the source said, in its words
	Direction vocab.Direction `json:"direction,omitempty"`
	Level     vocab.Level     `json:"level,omitempty"`
	Drive     vocab.Drive     `json:"drive,omitempty"`
	Owner     vocab.Owner     `json:"owner,omitempty"`
	// Latch is the level the line drives whenever it is an output (gpiolib's gpio_value, a
	// GPSET/GPCLR write): it is the line's level only while the line is driven.
	Latch vocab.Level `json:"latch,omitempty"`
}

// Mark is a moment of the harness's own: a tool started, a tool ended, an observation.
type Mark struct {
	At   time.Duration `json:"at"`
	What string        `json:"what"`
	// Reg, on the emulated Pi, is the register witness's mark that an observation wrote then:
	// where the host finds this moment in QEMU's trace.
	Reg uint32 `json:"reg,omitempty"`
}

// Timeline is what one line did during one spec.
type Timeline struct {
	Line  string `json:"line"`
	Clock string `json:"clock"` // what the times count, in words
	// Step is the clock's resolution when it is coarse (a kernel counting in jiffies), else 0.
	Step     time.Duration `json:"step,omitempty"`
	Emulated bool          `json:"emulated"` // the clock is an emulated machine's: durations give order and rough size only
	Sources  []Source      `json:"sources"`  // the sources that were watched (an empty one saw nothing)
	Events   []Event       `json:"events"`
	Marks    []Mark        `json:"marks,omitempty"`
	End      time.Duration `json:"end"` // the last observation: the timeline is known up to here
}

// Add appends events and keeps them in time order (a stable sort: events of one instant stay in
// the order their sources gave them).
func (t *Timeline) Add(es ...Event) {
	t.Events = append(t.Events, es...)
	slices.SortStableFunc(t.Events, func(a, b Event) int {
		if c := cmpDur(a.At, b.At); c != 0 {
			return c
		}
		return a.rank() - b.rank()
	})
	for _, e := range es {
		if !slices.Contains(t.Sources, e.Source) {
			t.Sources = append(t.Sources, e.Source)
		}
	}
	for _, e := range es {
		if e.At > t.End {
			t.End = e.At
		}
	}
}

// rank orders events of one instant, which a coarse clock makes common (a VM whose kernel
// fell back to jiffies counts in 4 ms steps): the observation before the tool first; then
// what the kernel did to the pin (gpio trace, registers), which comes before its line-info
// event of the same request or release; then line info and the driver's rules at it; then a
// partner's edge, which only confirms them at such an instant (the simulated wire raises it
// after the line-info event it acts on, a board within microseconds of the pin's change); the
// observation after last.
func (e Event) rank() int {
	switch e.Source {
	case Observer:
		if strings.HasPrefix(e.What, "observed before") {
			return -1
		}
		return 3
	case LineInfo, Driver:
		return 1
	case Partner:
		return 2
	}
	return 0
}

// Watched records that source s was watched, whether or not it saw anything.
func (t *Timeline) Watched(s Source) {
	if !slices.Contains(t.Sources, s) {
		t.Sources = append(t.Sources, s)
	}
}

// Mark records a moment of the harness's own.
func (t *Timeline) Mark(at time.Duration, what string) {
	t.Marks = append(t.Marks, Mark{At: at, What: what})
	slices.SortStableFunc(t.Marks, func(a, b Mark) int { return cmpDur(a.At, b.At) })
	if at > t.End {
		t.End = at
	}
}

// MarkOf is the first mark whose text is what; false when there is none.
func (t *Timeline) MarkOf(what string) (Mark, bool) {
	for _, m := range t.Marks {
		if m.What == what {
			return m, true
		}
	}
	return Mark{}, false
}

// Drop removes the events of source s (a better source replaces them).
func (t *Timeline) Drop(s Source) {
	t.Events = slices.DeleteFunc(t.Events, func(e Event) bool { return e.Source == s })
	t.Sources = slices.DeleteFunc(t.Sources, func(x Source) bool { return x == s })
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// State is what the line is doing over a span.
type State struct {
	Direction vocab.Direction `json:"direction"`
	Level     vocab.Level     `json:"level"`
	Drive     vocab.Drive     `json:"drive"`
	Owner     vocab.Owner     `json:"owner"`
	Latch     vocab.Level     `json:"latch"` // what it drives when it is an output
}

// Driving says whether s drives level l.
func (s State) Driving(l vocab.Level) bool { return s.Drive == vocab.Driven && s.Level == l }

// Known says whether s's level is known: driven or pulled to a level, or floating (no level).
func (s State) Known() bool {
	switch s.Drive {
	case vocab.Driven, vocab.Pulled:
		return s.Level == vocab.Low || s.Level == vocab.High
	case vocab.Floating:
		return true
	}
	return false
}

// Word is the state in a few words: "driven high", "pulled low", "floating", "input, level
// unknown".
func (s State) Word() string {
	switch {
	case s.Drive == vocab.Floating:
		return "floating"
	case s.Known():
		return string(s.Drive) + " " + s.Level.Word()
	case s.Direction == vocab.Output:
		return "output, level unknown"
	case s.Direction == vocab.Input:
		return "input, level unknown"
	}
	return "unknown"
}

func unknownState() State {
	return State{Direction: vocab.DirectionUnknown, Level: vocab.LevelUnknown, Drive: vocab.DriveUnknown, Owner: vocab.OwnerUnknown, Latch: vocab.LevelUnknown}
}

// apply sets the fields e gives.
func (s State) apply(e Event) State {
	if e.Direction != "" {
		s.Direction = e.Direction
	}
	if e.Level != "" {
		s.Level = e.Level
	}
	if e.Drive != "" {
		s.Drive = e.Drive
	}
	if e.Owner != "" {
		s.Owner = e.Owner
	}
	if e.Latch != "" {
		s.Latch = e.Latch
	}
	// A driven line is at its latch: an event that sees the level of a driven line sees the
	// latch, one that does not leaves the line at its latch.
	if s.Drive == vocab.Driven {
		if e.Level != "" && e.Level != vocab.LevelUnknown {
			s.Latch = e.Level
		}
		if s.Latch != "" {
			s.Level = s.Latch
		}
	}
	return s
}

// same says whether s and o are the same state of the line: its latch matters only through
// its level.
func (s State) same(o State) bool {
	s.Latch, o.Latch = "", ""
	return s == o
}

// Span is a stretch of time in one state.
type Span struct {
	From, To time.Duration
	State    State
	By       string // what the last event at its start said: what made the line so
}

// Len is the span's length.
func (s Span) Len() time.Duration { return s.To - s.From }

// Spans folds the events into stretches of one state, from the first event to End. Events of
// one instant each make a stretch of no length when they change the state: a pulse shorter
// than the clock's step is still a pulse.
func (t *Timeline) Spans() []Span {
	var out []Span
	st := unknownState()
	for _, e := range t.Events {
		st = st.apply(e)
		if n := len(out); n > 0 && out[n-1].State.same(st) {
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].To = e.At
		}
		out = append(out, Span{From: e.At, To: t.End, State: st, By: string(e.Source) + ": " + e.What})
	}
	return out
}

// Pulse is a stretch where the line was driven at one level.
type Pulse struct {
	Level    vocab.Level
	From, To time.Duration
	Held     bool // still driven at the timeline's end: not a pulse that ended
	After    State
}

// Len is the pulse's length.
func (p Pulse) Len() time.Duration { return p.To - p.From }

// Pulses are the stretches the line was driven at level l, in order (adjacent spans driven at l
// are one pulse).
func (t *Timeline) Pulses(l vocab.Level) []Pulse {
	var out []Pulse
	var cur *Pulse
	for _, s := range t.Spans() {
		if s.State.Driving(l) {
			if cur == nil {
				out = append(out, Pulse{Level: l, From: s.From})
				cur = &out[len(out)-1]
			}
			cur.To = s.To
			continue
		}
		if cur != nil {
			cur.After = s.State
			cur = nil
		}
	}
	if cur != nil {
		cur.Held = true
	}
	return out
}

// Glitch is a driven level other than the one asked for, before the line first drove it.
type Glitch struct {
	Level    vocab.Level
	From, To time.Duration
}

// StartUp finds the levels the line was driven to before it first drove l: none for a tool
// that requests its line with its value; a glitch for one that requests an output and sets the
// value afterwards.
func (t *Timeline) StartUp(l vocab.Level) []Glitch {
	var out []Glitch
	for _, s := range t.Spans() {
		if s.State.Driving(l) {
			break
		}
		if s.State.Drive == vocab.Driven && s.State.Level != l {
			out = append(out, Glitch{Level: s.State.Level, From: s.From, To: s.To})
		}
	}
	return out
}

// Handover is whether a line stayed at its level while one process gave it up and the next
// took it.
type Handover struct {
	// Known is false when the level is unknown for part of the window (a source saw the line
	// change but not to what): nothing is claimed then.
	Known  bool
	Never  bool // the line was never seen driving the level: there was nothing to hand over
	Steady bool
	// The gap, when not steady: from the first moment the line stopped driving the level to the
	// moment it drove it again (the timeline's end when it never did).
	From, To time.Duration
	Gap      []State // the states of the gap, in order
	By       string  // what began the gap, as its source said it
	Back     bool    // the line was driven at the level again by the end
}

// Len is the gap's length.
func (h Handover) Len() time.Duration { return h.To - h.From }

// Handover reads the handover of level l: the window starts when the line first drove l (the
// first process's request) and ends at the timeline's end (the next process holding it).
// Steady means it drove l throughout.
func (t *Timeline) Handover(l vocab.Level) Handover {
	spans := t.Spans()
	i := slices.IndexFunc(spans, func(s Span) bool { return s.State.Driving(l) })
	if i < 0 {
		return Handover{Never: true}
	}
	h := Handover{Known: true, Steady: true}
	for _, s := range spans[i:] {
		if s.State.Driving(l) {
			if !h.Steady && !h.Back {
				h.To, h.Back = s.From, true
			}
			continue
		}
		if !s.State.Known() {
			if s.Len() == 0 { // a step of one instant, between two known states
				continue
			}
			h.Known = false
		}
		if h.Steady {
			h.Steady, h.From, h.To, h.By = false, s.From, s.To, s.By
		}
		if !h.Back {
			h.Gap = append(h.Gap, s.State)
			h.To = s.To
		}
	}
	return h
}

// Words is the handover's answer: "steady: driven high throughout", "gap: pulled low for
// 1.2 ms, then driven high again", or "unknown: ...".
func (h Handover) Words(l vocab.Level, c Clock) string {
	switch {
	case h.Never:
		return "unknown: the line was never seen driven " + l.Word()
	case !h.Known:
		return fmt.Sprintf("unknown: the level was not seen for %s of the handover", c.Len(h.Len()))
	case h.Steady:
		return "steady: driven " + l.Word() + " throughout"
	}
	var ws []string
	for _, s := range h.Gap {
		if w := s.Word(); !slices.Contains(ws, w) {
			ws = append(ws, w)
		}
	}
	then := ", then driven " + l.Word() + " again"
	if !h.Back {
		then = ", and not driven " + l.Word() + " again by the end"
	}
	by := ""
	if h.By != "" {
		by = "; it began with " + h.By
	}
	return fmt.Sprintf("gap: %s for %s%s%s", strings.Join(ws, ", then "), c.Len(h.Len()), then, by)
}

// Clock is how a timeline's durations are to be read.
type Clock struct {
	Emulated bool          // an emulated machine's time
	Step     time.Duration // the clock's step when it is coarse, else 0
}

// Clocked is the timeline's clock.
func (t *Timeline) Clocked() Clock { return Clock{Emulated: t.Emulated, Step: t.Step} }

// Len writes a length measured on this clock: "1.2 ms (emulated)"; "under 4 ms" when the
// clock counts in 4 ms steps and d is less than one.
func (c Clock) Len(d time.Duration) string {
	if c.Step > 0 && d < c.Step {
		s := "under " + Duration(c.Step, false)
		if c.Emulated {
			s += " (emulated)"
		}
		return s
	}
	return Duration(d, c.Emulated)
}

// Duration writes d for people: "35 µs", "1.2 ms", "2.31 s"; "(emulated)" after it when the
// clock was an emulated machine's.
func Duration(d time.Duration, emulated bool) string {
	var s string
	switch {
	case d < time.Millisecond:
		s = fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		s = fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		s = fmt.Sprintf("%.3g s", d.Seconds())
	}
	if emulated {
		s += " (emulated)"
	}
	return s
}

// PulseWords is a set-and-exit tool's answer: "a pulse: driven high for 2.1 ms, then pulled
// low", "held: driven high from +1.0 ms to the end", "2 pulses: ...", "never driven high".
func PulseWords(ps []Pulse, l vocab.Level, c Clock) string {
	if len(ps) == 0 {
		return "never driven " + l.Word()
	}
	var ws []string
	for _, p := range ps {
		if p.Held {
			ws = append(ws, fmt.Sprintf("driven %s from +%s to the end", l.Word(), Duration(p.From, false)))
			continue
		}
		ws = append(ws, fmt.Sprintf("driven %s for %s, then %s", l.Word(), c.Len(p.Len()), p.After.Word()))
	}
	switch {
	case len(ps) == 1 && ps[0].Held:
		return "held: " + ws[0]
	case len(ps) == 1:
		return "a pulse: " + ws[0]
	}
	return fmt.Sprintf("%d pulses: %s", len(ps), strings.Join(ws, "; "))
}

// Kind is an answer in one word, what expectations name.
type Kind string

// The kinds of answer.
const (
	KindSteady  Kind = "steady"  // a handover: driven at the level throughout
	KindGap     Kind = "gap"     // a handover: the line left the level between the processes
	KindPulse   Kind = "pulse"   // a set-and-exit tool: driven at the level once, then not
	KindHeld    Kind = "held"    // a set-and-exit tool: still driven at the level at the end
	KindPulses  Kind = "pulses"  // driven at the level more than once
	KindNever   Kind = "never"   // never driven at the level
	KindClean   Kind = "clean"   // a start: the line was driven at the level asked for, and no other first
	KindGlitch  Kind = "glitch"  // a start: the line was driven at another level before the one asked for
	KindUnknown Kind = "unknown" // the sources did not see enough
)

// Kind is the handover's answer in one word.
func (h Handover) Kind() Kind {
	switch {
	case !h.Known || h.Never:
		return KindUnknown
	case h.Steady:
		return KindSteady
	}
	return KindGap
}

// PulseKind is a set-and-exit tool's answer in one word.
func (t *Timeline) PulseKind(l vocab.Level) Kind {
	ps := t.Pulses(l)
	spans := t.Spans()
	known := slices.ContainsFunc(spans, func(s Span) bool { return s.State.Known() })
	// A stretch driven at a level no source saw (line info without gpiolib's trace) could be
	// a pulse or not: nothing is claimed.
	blind := slices.ContainsFunc(spans, func(s Span) bool { return s.State.Drive == vocab.Driven && !s.State.Known() && s.Len() > 0 })
	switch {
	case !known || blind:
		return KindUnknown
	case len(ps) == 0:
		return KindNever
	case len(ps) > 1:
		return KindPulses
	case ps[0].Held:
		return KindHeld
	}
	return KindPulse
}
