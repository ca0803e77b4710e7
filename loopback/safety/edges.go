package safety

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
)

// Edge is one change of level the kernel saw on a held input: the electrical truth of the
// wire at that pin, timestamped by the kernel when the edge's interrupt came in.
type Edge struct {
	At     time.Duration // the kernel's CLOCK_MONOTONIC
	Rising bool
	Seqno  uint32 // the kernel's count of the line's edges: a gap in it is an edge lost
}

// EdgeWatch is a watch of the edges of a line the interlock holds as an input.
// It ends when the interlock next changes that line (a probe switching its pull, a
// release): what follows is gpiohil's own doing, not the wire's. The line's edge detection
// is switched off before that change is made, so every edge the watch holds happened before
// it; edges the kernel had queued by then still arrive.
type EdgeWatch struct {
	Line string

	mu     sync.Mutex
	start  time.Duration
	level  int // the line's level at the start, then after each edge
	edges  []Edge
	endWhy string
	late   bool // the line's level at the end was not the last edge's: an edge never came
}

// add takes an edge from gpiocdev's event goroutine.
func (w *EdgeWatch) add(ev gpiocdev.LineEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev.Timestamp < w.start { // queued for an earlier watch of the line
		return
	}
	e := Edge{At: ev.Timestamp, Rising: ev.Type == gpiocdev.LineEventRisingEdge, Seqno: ev.LineSeqno}
	w.edges = append(w.edges, e)
	w.level = 0
	if e.Rising {
		w.level = 1
	}
}

// EdgeQuiet is how long the end of a watch waits, at least, for edges the kernel has not
// handed over yet, and EdgeLag how long at most, until the last edge's level is the line's.
// On a board an edge's interrupt comes within microseconds; gpio-sim raises its interrupts as
// irq_work, which a kernel without inter-processor interrupts (gpiohil's VM, HZ=250) runs at
// its next timer tick, up to 4 ms later: a rise and a fall can both be pending, which the
// level alone would not show.
const (
	EdgeQuiet = 10 * time.Millisecond
	EdgeLag   = 100 * time.Millisecond
)

// await waits EdgeQuiet, then until the last edge's level is v, the line's level now, for at
// most EdgeLag.
func (w *EdgeWatch) await(v int) {
	time.Sleep(EdgeQuiet)
	for deadline := time.Now().Add(EdgeLag); ; time.Sleep(time.Millisecond) {
		w.mu.Lock()
		done := w.level == v
		if !done && time.Now().After(deadline) {
			w.late, done = true, true
		}
		w.mu.Unlock()
		if done {
			return
		}
	}
}

func (w *EdgeWatch) end(why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.endWhy == "" {
		w.endWhy = why
	}
}

// Edges are the edges seen so far, and why the watch ended: "" while it runs. Late says the
// line's level at the end differed from the last edge's even after EdgeLag: an edge is
// missing (lost, or later than EdgeLag).
func (w *EdgeWatch) Edges() (edges []Edge, why string, late bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.edges), w.endWhy, w.late
}

// WatchEdges starts watching both edges of name, which the interlock must hold as an input;
// its direction and bias stay as they are, so the watch changes nothing on the wire. Only
// one watch per line runs at a time: a new one ends the old. The watch ends by itself at the
// interlock's next change of the line; [Interlock.EndWatch] ends it at once.
func (il *Interlock) WatchEdges(name string) (*EdgeWatch, error) {
	il.mu.Lock()
	defer il.mu.Unlock()
	l, err := il.line("watch", name)
	if err != nil {
		return nil, err
	}
	h := il.held[name]
	if h == nil || h.output {
		return nil, fmt.Errorf("safety: watch the edges of %s: the line is not held as an input; hold it as an input first", name)
	}
	if err := il.endWatch(name, "a new watch"); err != nil {
		return nil, err
	}
	if err := h.req.Reconfigure(gpiocdev.WithBothEdges); err != nil {
		return nil, fmt.Errorf("watch the edges of %s: %w", l, err)
	}
	v, err := h.req.Value()
	if err != nil {
		return nil, fmt.Errorf("watch the edges of %s: read its level: %w", l, err)
	}
	h.edges = true
	w := &EdgeWatch{Line: name, start: bench.Monotonic(), level: v}
	il.wmu.Lock()
	il.watches[name] = w
	il.wmu.Unlock()
	return w, nil
}

// EndWatch ends the edge watch of name, if one runs.
func (il *Interlock) EndWatch(name string) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	return il.endWatch(name, "ended")
}

// endWatch ends the watch of name, saying why: once the edges still on their way have come
// (EdgeWatch.await), the line's edge detection is switched off, so no later
// edge can reach the watch. The watch stays registered for the edges the
// kernel queued before, until the next watch of the line. Called with il.mu held, before
// every change the interlock makes to a line.
func (il *Interlock) endWatch(name, why string) error {
	il.wmu.Lock()
	w := il.watches[name]
	il.wmu.Unlock()
	var err error
	if h := il.held[name]; h != nil && h.edges {
		if v, verr := h.req.Value(); verr == nil && w != nil {
			w.await(v)
		}
		h.edges = false
		if rerr := h.req.Reconfigure(gpiocdev.WithoutEdges); rerr != nil {
			err = fmt.Errorf("stop watching the edges of %s: %w", name, rerr)
		}
	}
	if w != nil {
		w.end(why)
	}
	return err
}

// onEdge is the event handler of every input the interlock requests: gpiocdev calls it from
// its own goroutine, so it never takes il.mu (a Close under il.mu waits for it).
func (il *Interlock) onEdge(name string) gpiocdev.EventHandler {
	return func(ev gpiocdev.LineEvent) {
		il.wmu.Lock()
		w := il.watches[name]
		il.wmu.Unlock()
		if w != nil {
			w.add(ev)
		}
	}
}
