package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/warthog618/go-gpiocdev/uapi"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// ChangeKind is what happened to a watched line.
type ChangeKind int

// The kinds of change the kernel reports.
const (
	Requested    ChangeKind = ChangeKind(uapi.LineChangedRequested)
	Released     ChangeKind = ChangeKind(uapi.LineChangedReleased)
	Reconfigured ChangeKind = ChangeKind(uapi.LineChangedConfig)
)

func (k ChangeKind) String() string {
	switch k {
	case Requested:
		return "requested"
	case Released:
		return "released"
	case Reconfigured:
		return "reconfigured"
	}
	return "change(" + strconv.Itoa(int(k)) + ")"
}

// Change is one line-info change event of a watched line, as the kernel reported it at that
// moment.
type Change struct {
	Kind      ChangeKind
	At        time.Duration   // the kernel's timestamp (CLOCK_MONOTONIC)
	Direction vocab.Direction // the direction flag line info held then
	Bias      vocab.Bias      // the bias line info held then (as-is when none)
	Consumer  string
}

func (c Change) String() string {
	s := fmt.Sprintf("%s %s %s", c.Kind, c.Direction, c.Bias)
	if c.Consumer != "" {
		s += " by " + strconv.Quote(c.Consumer)
	}
	return s
}

// Changes are a line's changes, in the order the kernel reported them.
type Changes []Change

// Release is the witness of how a line was given back: the configuration it had when its last
// request ended. The kernel clears a request's bias when it releases it, so the release event
// itself shows none; the bias is the one the request last had (its Requested or Reconfigured
// event). The direction is the release event's own: gpiolib keeps its cached direction across
// a release (even a direction set through /sys/class/gpio, which raises no event). ok is false
// when no request was released.
func (cs Changes) Release() (dir vocab.Direction, bias vocab.Bias, ok bool) {
	last := -1
	for i, c := range cs {
		if c.Kind == Released {
			last = i
		}
	}
	if last < 0 {
		return vocab.DirectionUnknown, vocab.BiasAsIs, false
	}
	bias = vocab.BiasUnknown // the request was made before the watch began
	for i := last - 1; i >= 0; i-- {
		if cs[i].Kind == Requested || cs[i].Kind == Reconfigured {
			bias = cs[i].Bias
			break
		}
		if cs[i].Kind == Released {
			break
		}
	}
	return cs[last].Direction, bias, true
}

// HeldQuiet is how long a line must stay unchanged after a process requested it before a
// LineWatch calls it held. A tool that requests a line and then reconfigures it (input first,
// then output) does so within microseconds; the margin is for emulation.
const HeldQuiet = 20 * time.Millisecond

// releaseWait bounds how long Stop waits for the release event of a line that line info
// already shows free: the kernel may queue line-info events after the process is gone (from
// a workqueue in newer kernels); under emulation they come within milliseconds.
const releaseWait = 2 * time.Second

// infoChangedSize is the size of one line-info change event as read from the chip.
var infoChangedSize = int(unsafe.Sizeof(uapi.LineInfoChangedV2{}))

// LineWatch follows one line through the kernel's line-info change events (a watch on its
// chip's character device): which process requested it, reconfigured it and released it, and
// how it was configured at each step. It never requests the line, so the line is not
// disturbed. It tells when a process holds the line (Held), standing in for a fixed settle
// time, and Stop returns every change, from which Changes.Release witnesses how the line was
// given back: what gpio-sim, which returns every released line to its simulated pull, erases.
//
// The kernel keeps at most 32 unread events per watcher; the watch reads them as they come,
// and Stop reads what is left, so a burst longer than that while the reader is not scheduled
// is the one way to lose an event. The kernel then logs "lineinfo event FIFO is full"; the
// suites treat a release they expected but did not see as an infrastructure error, never as
// evidence.
type LineWatch struct {
	file   *os.File
	fd     int
	offset int
	held   chan struct{}
	done   chan struct{} // closed when the reader has returned
	wake   chan struct{} // signalled at every change

	mu        sync.Mutex
	changes   Changes
	timer     *time.Timer
	requested bool
	closed    bool // held was closed, or the watch stopped
	err       error
}

// WatchLine starts watching line l. Stop (or Close) it when done.
func WatchLine(l Line) (*LineWatch, error) {
	fd, err := unix.Open(l.Dev, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, chipError(l, err)
	}
	info := uapi.LineInfoV2{Offset: uint32(l.Offset)}
	if err := uapi.WatchLineInfoV2(uintptr(fd), &info); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch line info of %s: %w", l, err)
	}
	w := &LineWatch{file: os.NewFile(uintptr(fd), l.Dev), fd: fd, offset: l.Offset,
		held: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go w.read()
	return w, nil
}

// Held is closed once the line has been requested and then stayed unchanged for HeldQuiet.
func (w *LineWatch) Held() <-chan struct{} { return w.held }

// read takes events as they come, parked on Go's poller rather than in a blocking system call.
func (w *LineWatch) read() {
	defer close(w.done)
	buf := make([]byte, 16*infoChangedSize)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed) {
				w.fail(err)
			}
			return
		}
		w.take(buf[:n])
	}
}

func (w *LineWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("read line-info events: %w", err)
	}
}

// take records the events in b.
func (w *LineWatch) take(b []byte) {
	for off := 0; off+infoChangedSize <= len(b); off += infoChangedSize {
		var ev uapi.LineInfoChangedV2
		if err := binary.Read(bytes.NewReader(b[off:off+infoChangedSize]), binary.NativeEndian, &ev); err != nil {
			w.fail(err)
			return
		}
		if int(ev.Info.Offset) == w.offset {
			w.record(changeOf(ev))
		}
	}
}

func changeOf(ev uapi.LineInfoChangedV2) Change {
	c := Change{Kind: ChangeKind(ev.Type), At: time.Duration(ev.Timestamp), Direction: vocab.Input, Bias: vocab.BiasAsIs,
		Consumer: uapi.BytesToString(ev.Info.Consumer[:])}
	if ev.Info.Flags.IsOutput() {
		c.Direction = vocab.Output
	}
	switch {
	case ev.Info.Flags.IsBiasPullUp():
		c.Bias = vocab.BiasPullUp
	case ev.Info.Flags.IsBiasPullDown():
		c.Bias = vocab.BiasPullDown
	case ev.Info.Flags.IsBiasDisabled():
		c.Bias = vocab.BiasDisabled
	}
	return c
}

func (w *LineWatch) record(c Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.changes = append(w.changes, c)
	select {
	case w.wake <- struct{}{}:
	default:
	}
	switch c.Kind {
	case Requested:
		w.requested = true
	case Released:
		w.requested = false
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if w.requested && !w.closed {
		w.timer = time.AfterFunc(HeldQuiet, w.fire)
	}
}

func (w *LineWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.requested && !w.closed {
		w.closed = true
		close(w.held)
	}
}

// lastKind is the kind of the last change seen, and whether there was one.
func (w *LineWatch) lastKind() (ChangeKind, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.changes) == 0 {
		return 0, false
	}
	return w.changes[len(w.changes)-1].Kind, true
}

// Stop ends the watch and returns every change it saw, in order. When line info already
// shows the line free but the last change seen is not its release, Stop first waits up to
// releaseWait for that release to arrive.
func (w *LineWatch) Stop() (Changes, error) {
	timer := time.NewTimer(releaseWait)
	defer timer.Stop()
wait:
	for {
		info, err := uapi.GetLineInfoV2(uintptr(w.fd), w.offset)
		k, seen := w.lastKind()
		if err != nil || info.Flags.IsUsed() || !seen || k == Released {
			break
		}
		select {
		case <-w.wake:
		case <-timer.C:
			break wait
		case <-w.done:
			break wait
		}
	}
	w.file.SetReadDeadline(time.Now()) // the reader returns
	<-w.done
	w.drain()
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.closed = true
	changes, err := append(Changes(nil), w.changes...), w.err
	w.mu.Unlock()
	w.file.Close()
	return changes, err
}

// drain reads the events still queued, without waiting.
func (w *LineWatch) drain() {
	buf := make([]byte, 16*infoChangedSize)
	for {
		n, err := unix.Read(w.fd, buf)
		if err != nil || n <= 0 {
			if err != nil && err != unix.EAGAIN && err != unix.EINTR {
				w.fail(err)
			}
			return
		}
		w.take(buf[:n])
	}
}

// Close stops the watch, dropping what it saw.
func (w *LineWatch) Close() error {
	_, err := w.Stop()
	return err
}
