package bench

import "github.com/gpiohil/gpiohil/harness/timeline"

// EdgeWatcher is a bench that sees a line's level from outside the line: a loopback rig,
// whose partner pin's edges are the wire's electrical truth (timeline.Partner).
type EdgeWatcher interface {
	// WatchEdges starts watching the level of l from outside, changing nothing on the wire.
	WatchEdges(l Line) (Edges, error)
}

// Edges is a running watch of a line's level from outside.
type Edges interface {
	// Stop ends the watch and returns the level changes it saw, At on the kernel's
	// CLOCK_MONOTONIC, each with Level set (an edge says nothing of what drives the line),
	// and notes on what it may have missed. A watch ends by itself when the bench touches
	// the watching pin (an observation's probe): what it saw after that is left out.
	Stop() (es []timeline.Event, notes []string, err error)
}
