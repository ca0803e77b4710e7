package trial

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Recording gathers one line's timeline across one or more tool runs: the observations the
// harness makes, the kernel's line-info changes of each run, gpiolib's trace events, and what
// the bench's driver does by itself at a release (bench.Driver). Times count from the
// recording's start, on the kernel's CLOCK_MONOTONIC: the clock of line-info and trace events.
type Recording struct {
	b      bench.Bench
	l      bench.Line
	zero   time.Duration
	trace  *bench.GPIOTrace
	traced bool        // the gpio trace was recorded (and stopped)
	edges  bench.Edges // a loopback partner's edges, on a rig
	tl     *timeline.Timeline
	// pulls is the line's pull over time, as the driver's rules follow it from the requests'
	// biases: what an input or a released line reads.
	pulls []pullAt
	// Notes say what a source could not give.
	Notes []string
}

type pullAt struct {
	at   time.Duration
	pull vocab.Pull
}

// Record starts recording line l of bench b, whose state before is the starting point.
// emulated says the kernel runs in an emulator: its durations are the emulated machine's.
func Record(b bench.Bench, l bench.Line, before observe.Observation, emulated bool) *Recording {
	r := &Recording{b: b, l: l, zero: bench.Monotonic()}
	r.tl = &timeline.Timeline{Line: l.Name, Emulated: emulated,
		Clock: "the CLOCK_MONOTONIC of the kernel that ran the tools, from the first tool's start"}
	if cs := clocksource(); cs == "jiffies" {
		r.tl.Step = 4 * time.Millisecond // HZ=250 in gpiohil's VM kernel; at most 10 ms elsewhere
		r.tl.Clock += "; the kernel's clocksource is jiffies, so times move in ticks and events of one tick are ordered by what the kernel does first"
	}
	pull := vocab.PullUnknown
	if before.Can.Has(vocab.FieldPull) {
		pull = before.Pull
	}
	r.pulls = []pullAt{{0, pull}}
	r.Observed(before, "observed before")
	r.tl.Watched(timeline.LineInfo)
	var err error
	if r.trace, err = bench.TraceGPIO(l); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("gpio trace: not recorded (%v)", err))
	} else {
		r.tl.Watched(timeline.GPIOTrace)
	}
	if _, ok := b.(bench.Driver); ok {
		r.tl.Watched(timeline.Driver)
	}
	if ew, ok := b.(bench.EdgeWatcher); ok {
		if r.edges, err = ew.WatchEdges(l); err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("partner edges: not recorded (%v)", err))
			r.edges = nil
		} else {
			r.tl.Watched(timeline.Partner)
		}
	}
	return r
}

// Now is the time since the recording started.
func (r *Recording) Now() time.Duration { return bench.Monotonic() - r.zero }

// Mark records a moment of the harness's own, now.
func (r *Recording) Mark(what string) { r.tl.Mark(r.Now(), what) }

// Observed adds what an observation made now saw, the fields its bench can see.
func (r *Recording) Observed(o observe.Observation, what string) { r.observedAt(o, what, r.Now()) }

func (r *Recording) observedAt(o observe.Observation, what string, at time.Duration) {
	e := timeline.Event{At: at, Source: timeline.Observer, What: what + ": " + o.Summary()}
	if o.Can.Has(vocab.FieldDirection) && o.Direction != vocab.DirectionUnknown {
		e.Direction = o.Direction
	}
	if o.Can.Has(vocab.FieldLevel) && o.Level != vocab.LevelUnknown {
		e.Level = o.Level
	}
	if o.Can.Has(vocab.FieldDrive) && o.Drive != vocab.DriveUnknown {
		e.Drive = o.Drive
	}
	if o.Owner != vocab.OwnerUnknown {
		e.Owner = o.Owner
	}
	r.tl.Add(e)
	r.tl.Marks = append(r.tl.Marks, timeline.Mark{At: at, What: what, Reg: o.Mark})
}

// LineInfo adds one run's line-info changes, and what the bench's driver does at each.
func (r *Recording) LineInfo(cs bench.Changes) {
	drv, _ := r.b.(bench.Driver)
	for _, c := range cs {
		at := c.At - r.zero
		e := timeline.Event{At: at, Source: timeline.LineInfo, What: c.String()}
		switch c.Kind {
		case bench.Requested, bench.Reconfigured:
			r.beforeRequest(at)
			// While requested, the line is what the request says: an output drives (at a level
			// only a trace or the registers know), an input is left to its pull. Where gpiolib's
			// trace is recorded it says so itself, on its own clock: line info's word would land
			// a moment before or after it and make a stretch of an unknown level.
			e.Owner = vocab.Used
			if r.trace == nil && !r.traced {
				e.Direction = c.Direction
				if c.Direction == vocab.Output {
					e.Drive = vocab.Driven
				}
			}
			if drv != nil {
				r.pulls = append(r.pulls, pullAt{at, drv.PullAfter(r.pullAt(at), c.Bias)})
			}
		case bench.Released:
			e.Owner = vocab.Free
		}
		r.tl.Add(e)
		if drv == nil {
			continue
		}
		switch {
		case c.Kind == bench.Released:
			if d, ok := drv.AtRelease(r.pullAt(at)); ok {
				d.At = at
				r.tl.Add(d)
			}
		case c.Direction == vocab.Input:
			d := drv.AtInput(r.pullAt(at))
			d.At = at
			r.tl.Add(d)
		}
	}
}

// beforeRequest keeps a release that line info reported before a request of the same clock
// tick (two processes, one after the other, on a kernel counting in jiffies) before that
// request's gpio trace events too: they share its timestamp, and an instant's order puts
// what the kernel did to the pin first, which would place the new request's drive before the
// old one's release. The release and the driver's rule at it move back 1 ns: the order line
// info gave, well inside the clock's step.
func (r *Recording) beforeRequest(at time.Duration) {
	moved := false
	for i, e := range r.tl.Events {
		if e.At == at && (e.Source == timeline.LineInfo && e.Owner == vocab.Free || e.Source == timeline.Driver) {
			r.tl.Events[i].At = at - time.Nanosecond
			moved = true
		}
	}
	if moved {
		r.tl.Add() // sorts again
	}
}

// pullAt is the line's pull at t, as far as the driver's rules follow it.
func (r *Recording) pullAt(t time.Duration) vocab.Pull {
	p := vocab.PullUnknown
	for _, pa := range r.pulls {
		if pa.at <= t {
			p = pa.pull
		}
	}
	return p
}

// Abandon stops a recording that was not stopped (an error cut the trial short): the kernel's
// trace is switched off and given back.
func (r *Recording) Abandon() {
	if r.trace != nil {
		r.trace.Stop()
		r.trace = nil
	}
	if r.edges != nil {
		r.edges.Stop()
		r.edges = nil
	}
}

// Stop ends the recording with the observation after, made now, and returns the timeline. What
// the sources saw after until (when it is not zero) is left out: the timeline ends there.
func (r *Recording) Stop(after observe.Observation) *timeline.Timeline {
	return r.StopAt(after, 0)
}

// StopAt is Stop for an observation made at until, earlier than now: what the sources saw after
// it is left out.
func (r *Recording) StopAt(after observe.Observation, until time.Duration) *timeline.Timeline {
	if r.trace != nil {
		es, err := r.trace.Stop()
		r.trace, r.traced = nil, err == nil
		if err != nil {
			r.Notes = append(r.Notes, err.Error())
			r.tl.Sources = slices.DeleteFunc(r.tl.Sources, func(s timeline.Source) bool { return s == timeline.GPIOTrace })
		}
		drv, _ := r.b.(bench.Driver)
		for _, e := range es {
			e.At -= r.zero
			if e.Direction == vocab.Input && drv != nil {
				d := drv.AtInput(r.pullAt(e.At))
				e.Drive, e.Level = d.Drive, d.Level
				e.What += "; " + d.What
			}
			if until == 0 || e.At <= until {
				r.tl.Add(e)
			}
		}
	}
	if r.edges != nil {
		// Added after the trace's events: an edge of the same clock tick is its effect.
		es, notes, err := r.edges.Stop()
		r.edges = nil
		r.Notes = append(r.Notes, notes...)
		if err != nil {
			r.Notes = append(r.Notes, err.Error())
		}
		for _, e := range es {
			e.At -= r.zero
			if until == 0 || e.At <= until {
				r.tl.Add(e)
			}
		}
	}
	if until == 0 {
		r.Observed(after, "observed after")
	} else {
		r.observedAt(after, "observed after", until)
	}
	return r.tl
}

// clocksource is the kernel's current clocksource, "" when it cannot be read.
func clocksource() string {
	b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
