// Package benchtest helps tests prove that something did not happen to a GPIO line, without
// waiting a guessed time for silence: InfoWatch records the line-info events of some lines of
// a chip through one watch and, with Sync, proves with a marker line when every event up to a
// point has been read, so an event that is merely late cannot pass for one that never came.
package benchtest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
)

// MarkerWait bounds the wait for a marker: the kernel queues its event within the request and
// release calls themselves, and reading it takes microseconds in the VM; seconds leave room
// for a loaded emulator. markerResend is when Sync requests and releases the marker again, in
// case the kernel dropped the first (see Sync).
const (
	MarkerWait   = 5 * time.Second
	markerResend = 250 * time.Millisecond
)

// Monotonic is CLOCK_MONOTONIC, the clock of the kernel's line-info and edge event timestamps.
func Monotonic() time.Duration { return bench.Monotonic() }

// Mark returns a reading of CLOCK_MONOTONIC that the kernel's timestamp of anything done after
// Mark returns exceeds, and of anything done before does not: it waits for the clock to move
// on. The VM's clock can read the same for a while (its timestamps have been seen to advance
// in 4 ms ticks, and an event and a reading taken after it to agree to the nanosecond).
func Mark() time.Duration {
	t := Monotonic()
	for Monotonic() == t {
	}
	return t
}

// InfoWatch records the line-info events of some lines of one chip, in order, through one file
// descriptor, and proves with a marker line when it has read every event up to a point (Sync).
type InfoWatch struct {
	chip       *gpiocdev.Chip
	name       string // the chip's, e.g. gpiochip3
	marker     int    // the marker line's offset
	markerName string

	mu      sync.Mutex
	events  []gpiocdev.LineInfoChangeEvent // of the watched lines, in the order the kernel queued them
	markers []markerSeen                   // the marker's releases
	wake    chan struct{}
}

type markerSeen struct {
	at     time.Duration // the kernel's timestamp of the release
	before int           // how many events of the watched lines came before it
}

// Watch watches the lines at offsets of chip (e.g. gpiochip3) until Close or the test's end,
// with the line at marker (called markerName in messages) as the marker: a line nothing else
// touches, which must not be one of offsets.
func Watch(t testing.TB, chip string, marker int, markerName string, offsets ...int) *InfoWatch {
	t.Helper()
	c, err := gpiocdev.NewChip(chip)
	if err != nil {
		t.Fatal(err)
	}
	w := &InfoWatch{chip: c, name: chip, marker: marker, markerName: markerName, wake: make(chan struct{}, 1)}
	t.Cleanup(w.Close)
	for _, off := range offsets {
		if off == marker {
			t.Fatalf("watch offset %d of %s: it is the marker %s", off, chip, markerName)
		}
		if _, err := c.WatchLineInfo(off, w.event); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.WatchLineInfo(marker, w.markerEvent); err != nil {
		t.Fatal(err)
	}
	return w
}

// Close ends the watch; it may be called again.
func (w *InfoWatch) Close() { w.chip.Close() }

func (w *InfoWatch) event(e gpiocdev.LineInfoChangeEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, e)
}

func (w *InfoWatch) markerEvent(e gpiocdev.LineInfoChangeEvent) {
	if e.Type != gpiocdev.LineReleased {
		return
	}
	w.mu.Lock()
	w.markers = append(w.markers, markerSeen{at: e.Timestamp, before: len(w.events)})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Sync requests and releases the marker line and returns every event of the watched lines that
// the kernel queued before the marker's release. On the VM's kernel (6.12) gpiolib sends
// line-info events from within the request, reconfigure and release calls themselves, into one
// queue per watcher in the order they happen, and go-gpiocdev reads that queue in order: once
// the marker's release is read, so is every event raised before it, by this process or any
// other. Only a release the kernel stamped after Sync began counts, so a marker from an
// earlier Sync cannot stand in for this one. The kernel keeps 32 events per watcher and drops
// new ones when full: Sync sends the marker again every markerResend, and fails after
// MarkerWait without one. (A full queue drops the newest events, never the oldest, so an
// event raised while the queue had room is still read before any later marker.)
func (w *InfoWatch) Sync(t testing.TB) []gpiocdev.LineInfoChangeEvent {
	t.Helper()
	begun := Mark()
	deadline := time.After(MarkerWait)
	for {
		req, err := gpiocdev.RequestLine(w.name, w.marker, gpiocdev.AsInput, gpiocdev.WithConsumer("gpiohil-test-marker"))
		if err != nil {
			t.Fatalf("request the marker line %s: %v", w.markerName, err)
		}
		req.Close()
		resend := time.After(markerResend)
		for waiting := true; waiting; {
			select {
			case <-w.wake:
				w.mu.Lock()
				for _, m := range w.markers {
					if m.at > begun {
						evs := slices.Clone(w.events[:m.before])
						w.mu.Unlock()
						return evs
					}
				}
				w.mu.Unlock()
			case <-resend:
				waiting = false
			case <-deadline:
				t.Fatalf("the marker line %s was requested and released but no line-info event of it arrived within %v: cannot tell which events came before it", w.markerName, MarkerWait)
			}
		}
	}
}

// Describe lists line-info events for a message: what happened, by whom, when (kernel time).
func Describe(evs []gpiocdev.LineInfoChangeEvent) string {
	var s []string
	for _, e := range evs {
		what := map[gpiocdev.LineInfoChangeType]string{gpiocdev.LineRequested: "requested", gpiocdev.LineReleased: "released", gpiocdev.LineReconfigured: "reconfigured"}[e.Type]
		if what == "" {
			what = fmt.Sprintf("change %d", e.Type)
		}
		if e.Info.Consumer != "" {
			what += fmt.Sprintf(" by %q", e.Info.Consumer)
		}
		s = append(s, fmt.Sprintf("%s %s at %v", e.Info.Name, what, e.Timestamp))
	}
	return strings.Join(s, ", ")
}
