package bench

import (
	"sync"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// HeldQuiet is how long a line must stay unchanged after a process requested it before
// WatchHeld calls it held. A tool that requests a line and then reconfigures it (input first,
// then output) does so within microseconds; the margin is for emulation.
const HeldQuiet = 20 * time.Millisecond

// HeldWatch tells when some process has requested a line and left its configuration alone for
// HeldQuiet. It learns this from the kernel's line-info change events (a watch on the chip's
// character device): it never requests the line, so the line is not disturbed. It stands in
// for a fixed settle time for tools that print nothing once they have set their lines.
type HeldWatch struct {
	chip *gpiocdev.Chip
	held chan struct{}

	mu        sync.Mutex
	timer     *time.Timer
	requested bool
	done      bool // held was closed, or the watch was stopped
}

// WatchHeld starts watching line l. Close it when done.
func WatchHeld(l Line) (*HeldWatch, error) {
	c, err := gpiocdev.NewChip(l.Dev)
	if err != nil {
		return nil, err
	}
	w := &HeldWatch{chip: c, held: make(chan struct{})}
	if _, err := c.WatchLineInfo(l.Offset, w.event); err != nil {
		c.Close()
		return nil, err
	}
	return w, nil
}

// Held is closed once the line has been requested and then stayed unchanged for HeldQuiet.
func (w *HeldWatch) Held() <-chan struct{} { return w.held }

func (w *HeldWatch) event(e gpiocdev.LineInfoChangeEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	switch e.Type {
	case gpiocdev.LineRequested:
		w.requested = true
	case gpiocdev.LineReleased:
		w.requested = false
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if w.requested {
		w.timer = time.AfterFunc(HeldQuiet, w.fire)
	}
}

func (w *HeldWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.requested && !w.done {
		w.done = true
		close(w.held)
	}
}

// Close stops the watch. Held is then never closed if it was not already.
func (w *HeldWatch) Close() error {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.done = true
	w.mu.Unlock()
	return w.chip.Close()
}
