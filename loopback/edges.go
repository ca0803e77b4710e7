package loopback

import (
	"fmt"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

// WatchEdges implements bench.EdgeWatcher: the edges of l's partner, which Guard and Prepare
// hold as an input with bias disabled. Watching changes nothing on the wire; the watch ends
// when the bench next touches the partner, which an observation's probe does first.
func (b *Bench) WatchEdges(l bench.Line) (bench.Edges, error) {
	p, err := b.pairOf(l)
	if err != nil {
		return nil, err
	}
	if err := b.il.GuardPartner(l.Name); err != nil {
		return nil, fmt.Errorf("watch %s from its partner: %w", l, err)
	}
	w, err := b.il.WatchEdges(p.Partner)
	if err != nil {
		return nil, err
	}
	return &partnerEdges{il: b.il, w: w}, nil
}

type partnerEdges struct {
	il *safety.Interlock
	w  *safety.EdgeWatch
}

// Stop implements bench.Edges.
func (e *partnerEdges) Stop() ([]timeline.Event, []string, error) {
	err := e.il.EndWatch(e.w.Line)
	edges, _, late := e.w.Edges()
	var es []timeline.Event
	var notes []string
	for i, ed := range edges {
		ev := timeline.Event{At: ed.At, Source: timeline.Partner, What: fmt.Sprintf("partner %s: falling edge", e.w.Line), Level: vocab.Low}
		if ed.Rising {
			ev.What, ev.Level = fmt.Sprintf("partner %s: rising edge", e.w.Line), vocab.High
		}
		es = append(es, ev)
		if i > 0 && ed.Seqno > edges[i-1].Seqno+1 {
			notes = append(notes, fmt.Sprintf("partner %s: %d edges lost before %s (the kernel's queue of edge events overflowed)", e.w.Line, ed.Seqno-edges[i-1].Seqno-1, ed.At))
		}
	}
	if late {
		notes = append(notes, fmt.Sprintf("partner %s: its level at the end was not its last edge's, even %v later: an edge is missing", e.w.Line, safety.EdgeLag))
	}
	return es, notes, err
}

// rules are the pin controller's release semantics. On gpio-sim, under the simulated wire, a
// released line never drives and keeps the pull its last request set: the rules of
// pinctrl-bcm2835 with persist_gpio_outputs off.
func (b *Bench) rules() bench.PinctrlRules {
	p := b.platform()
	if p.Driver == "gpio-sim" {
		p.Persist = vocab.PersistOff
	}
	return bench.PinctrlRules{Label: b.rig.Chip, Persist: p.Persist}
}

// AtRelease implements bench.Driver with the pin controller's rules.
func (b *Bench) AtRelease(p vocab.Pull) (timeline.Event, bool) { return b.rules().AtRelease(p) }

// AtInput implements bench.Driver.
func (b *Bench) AtInput(p vocab.Pull) timeline.Event { return b.rules().AtInput(p) }

// PullAfter implements bench.Driver.
func (b *Bench) PullAfter(p vocab.Pull, bias vocab.Bias) vocab.Pull {
	return b.rules().PullAfter(p, bias)
}

var (
	_ bench.EdgeWatcher = (*Bench)(nil)
	_ bench.Driver      = (*Bench)(nil)
)

// FollowPartner holds l's partner as an input with bias disabled and watches its edges, without
// the wiring check, for `gpiohil watch --rig`: the check requests l, and watching must not.
// The watch's Edges grow as edges come; an open jumper shows none.
func (b *Bench) FollowPartner(l bench.Line) (*safety.EdgeWatch, error) {
	if _, err := b.Line(l.Name); err != nil {
		return nil, err
	}
	p, _ := b.rig.PairOf(l.Name)
	if err := b.bad[p.Partner]; err != nil {
		return nil, fmt.Errorf("watch %s from its partner %s: %w", l.Name, p.Partner, err)
	}
	if err := b.il.Input(p.Partner, vocab.BiasDisabled); err != nil {
		return nil, fmt.Errorf("watch %s: hold its partner %s as an input: %w", l.Name, p.Partner, err)
	}
	return b.il.WatchEdges(p.Partner)
}
