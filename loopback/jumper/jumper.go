// Package jumper is a simulated loopback jumper on gpio-sim: it joins two simulated lines as a
// wire between two header pins would, so that the loopback rig's logic (the wiring check, the
// partner probe, the safety interlock, the Pi bench) runs in the VM lane without a Raspberry Pi.
//
// # Wiring
//
// A [Config] names jumpers as pairs of line names on one gpio-sim chip, exactly as a rig file
// names its pairs: Jumpers: [][2]string{{"GPIO17", "GPIO18"}}. [Start] runs the wire in a
// goroutine of the calling process; [Wire.Close] stops it.
//
// # How it works
//
// gpio-sim only lets a program set each line's simulated pull (the sim_gpioN/pull attribute):
// an unrequested line and a requested input read that pull as their value, a requested output
// reads what it drives. So the wire watches both ends' configuration and writes each end's
// simulated pull so that every input reads the level the wire resolves to:
//
//   - An end's own pull resistor is tracked from the kernel's line-info events (a request with
//     pull-up, pull-down or bias disabled sets it; an as-is request and a release leave it, as
//     on a Pi, where the pull register outlives every request).
//   - Whether an end drives, and at what level, comes from its current line info (requested as
//     an output) and its sim value attribute; a released line never drives (gpio-sim's own
//     semantics, like mainline pinctrl-bcm2835 without persist_gpio_outputs).
//   - The wire's level: a short forces it; else drivers set it (two drivers at different
//     levels are a contention, recorded and read as 0); else the pulls (a pull-up against a
//     pull-down is mid-rail, read as [MidRail] says); else nothing holds it and it keeps its
//     last level: charge retention, modelled on purpose, because the probe relies on it to
//     tell floating from pulled.
//
// Events versus polling: line-info events (GPIO_V2_GET_LINEINFO_WATCH_IOCTL) are exact for what
// they carry, and catch a request that is made and released between two looks, whose pull
// would otherwise be lost; but a change of an output's value raises no event, and neither does
// a direction change through /sys/class/gpio. So the wire does both: it wakes at once on an
// event, and while any end drives (or is exported through sysfs) it also looks every
// [Config.Poll]. [Wire.Settle] makes the state exact on demand: it drains the kernel's queued
// events, rescans every end and writes the pulls before it returns. On this project's 6.12
// kernel the events are queued synchronously inside the request or reconfigure call, so a
// Settle after such a call always sees it. A scan reads the ends one by one; when an event
// arrives while it runs it is taken again, so a half-old, half-new view (one end's old output
// beside the other end's new one) never shows as a contention.
//
// The wire waits on the chip's descriptor through Go's runtime poller, not in a blocking
// system call: on the VM's kernel (HZ=250, no high-resolution timers) a thread blocked in
// ppoll with a timeout made every Settle cost about 15 ms; parked on the poller it costs about
// 0.1 ms.
//
// # Faults
//
// [Open], [Crossed], [Bridged], [ShortToGND], [ShortTo3V3] and [Stuck] change the wiring the
// wire simulates; the wiring check must find each of them. [Wire.Contentions] lists every
// moment two drivers fought, which tests use to prove the interlock never let it happen.
//
// # Fidelity limits
//
// docs/loopback.md lists them in full. In short: no voltages (mid-rail is a choice, contention
// reads 0, a series resistor changes nothing); no time constants (a change reaches the other
// end when the wire next runs, within Poll, or at once under Settle); an output requested and
// released faster than the wire looks is seen as a request and its pull, never as a drive; an
// output's own value always reads back as driven, even into a short or a stuck pad; the
// kernel queues at most 32 line-info events per reader, so a longer burst between two looks
// loses events (requested lines are still rescanned); floating charge never leaks away.
package jumper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/warthog618/go-gpiocdev/uapi"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// DefaultPoll is how often the wire looks at its ends, while one of them drives, when no event
// wakes it. An output's value changes and sysfs direction changes raise no line-info event;
// 2 ms sees them well before a person or a tool would, and every check and probe calls Settle
// anyway. One look is one line-info ioctl per end plus a sysfs read per driven end, tens of
// microseconds in the VM.
const DefaultPoll = 2 * time.Millisecond

// SettleTimeout bounds Settle: one look takes well under a millisecond even under QEMU's
// software emulation; a second means the wire's goroutine is stuck.
const SettleTimeout = time.Second

// ErrClosed is returned by Settle after Close.
var ErrClosed = errors.New("jumper: closed")

// Config describes a simulated board.
type Config struct {
	Chip    sim.Chip    // the gpio-sim chip that holds every end
	Jumpers [][2]string // line names joined by a jumper, as a rig's pairs
	Faults  []Fault
	MidRail MidRail
	Poll    time.Duration // 0: DefaultPoll
	// Pulls sets ends' pull resistors at start; unset ends start with none, as gpiohil leaves
	// every line it restores.
	Pulls map[string]vocab.Pull
}

type end struct {
	endState
	offset  int
	valueFd int
	pullFd  int
	written int // last level written to the sim pull; -1 before the first write
	dirty   bool
}

// Wire is a running simulated board.
type Wire struct {
	cfg    Config
	chipFd int      // non-blocking; read directly by cycle
	chip   *os.File // the same descriptor, for waiting on the runtime's poller
	ends   map[string]*end
	byOff  map[int]*end
	nets   []*net
	states map[string]*endState

	state sync.Mutex // guards the model: ends, nets, states

	mu          sync.Mutex
	waiters     []chan error
	stop        bool
	err         error
	contentions []Contention
	done        chan struct{}
	closeOnce   sync.Once
}

// Start builds the board and runs the wire until Close.
func Start(cfg Config) (*Wire, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	nets, err := build(cfg.Jumpers, cfg.Faults)
	if err != nil {
		return nil, err
	}
	w := &Wire{cfg: cfg, chipFd: -1, ends: map[string]*end{}, byOff: map[int]*end{}, nets: nets,
		states: map[string]*endState{}, done: make(chan struct{})}
	fail := func(err error) (*Wire, error) {
		w.closeFds()
		return nil, err
	}
	if w.chipFd, err = unix.Open(cfg.Chip.Dev, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0); err != nil {
		return fail(fmt.Errorf("jumper: open %s (chip %s): %w", cfg.Chip.Dev, cfg.Chip.Label, err))
	}
	for _, n := range nets {
		for _, name := range n.ends {
			off := slices.Index(cfg.Chip.Lines, name)
			if off < 0 {
				return fail(fmt.Errorf("jumper: line %s is not on chip %s (lines: %v)", name, cfg.Chip.Label, cfg.Chip.Lines))
			}
			e := &end{endState: endState{name: name, pull: vocab.PullNone}, offset: off, valueFd: -1, pullFd: -1, written: -1}
			if p, ok := cfg.Pulls[name]; ok {
				e.pull = p
			}
			w.ends[name], w.byOff[off], w.states[name] = e, e, &e.endState
			if e.valueFd, err = unix.Open(cfg.Chip.Attr(off, "value"), unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				return fail(fmt.Errorf("jumper: open %s: %w", cfg.Chip.Attr(off, "value"), err))
			}
			if e.pullFd, err = unix.Open(cfg.Chip.Attr(off, "pull"), unix.O_WRONLY|unix.O_CLOEXEC, 0); err != nil {
				return fail(fmt.Errorf("jumper: open %s: %w", cfg.Chip.Attr(off, "pull"), err))
			}
			info := uapi.LineInfoV2{Offset: uint32(off)}
			if err := uapi.WatchLineInfoV2(uintptr(w.chipFd), &info); err != nil {
				return fail(fmt.Errorf("jumper: watch line info of %s: %w", name, err))
			}
		}
	}
	if _, err := w.cycle(); err != nil {
		return fail(err)
	}
	// A descriptor opened non-blocking is registered with the runtime's poller, so waiting for
	// events parks the goroutine instead of blocking a thread in a system call, and a read
	// deadline wakes it: for the poll interval, and at once for Settle and Close.
	w.chip = os.NewFile(uintptr(w.chipFd), cfg.Chip.Dev)
	go w.run()
	return w, nil
}

func (w *Wire) closeFds() {
	if w.chip != nil {
		w.chip.Close()
		w.chip, w.chipFd = nil, -1
	} else if w.chipFd >= 0 {
		unix.Close(w.chipFd)
		w.chipFd = -1
	}
	for _, e := range w.ends {
		for _, fd := range []*int{&e.valueFd, &e.pullFd} {
			if *fd >= 0 {
				unix.Close(*fd)
				*fd = -1
			}
		}
	}
}

// pending reports whether a Settle or Close is waiting for the wire.
func (w *Wire) pending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stop || len(w.waiters) > 0
}

// wait parks until the chip has line-info events, the poll interval passes (only while an end
// drives: nothing else changes without an event) or Settle or Close wakes it.
func (w *Wire) wait(poll bool, rc syscall.RawConn) {
	deadline := time.Time{}
	if poll {
		deadline = time.Now().Add(w.cfg.Poll)
	}
	w.chip.SetReadDeadline(deadline)
	if w.pending() { // a wake-up that came before the deadline was set
		return
	}
	rc.Read(func(fd uintptr) bool {
		// Readable means events are queued: return without consuming them (cycle reads them).
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(fds, 0)
		return n > 0
	})
}

// run is the wire's goroutine: wait, then look, until Close.
func (w *Wire) run() {
	defer close(w.done)
	rc, err := w.chip.SyscallConn()
	if err != nil {
		w.fail(fmt.Errorf("jumper: %w", err))
		return
	}
	poll := true
	for {
		w.wait(poll, rc)
		w.mu.Lock()
		waiters, stop := w.waiters, w.stop
		w.waiters = nil
		w.mu.Unlock()
		if stop {
			for _, ch := range waiters {
				ch <- ErrClosed
			}
			return
		}
		var err error
		poll, err = w.cycle()
		if err != nil {
			w.fail(err)
		}
		for _, ch := range waiters {
			ch <- err
		}
	}
}

func (w *Wire) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// Settle returns once the wire has seen every change made before the call and written the
// resulting levels. It implements the probe's Settler.
func (w *Wire) Settle() error {
	ch := make(chan error, 1)
	w.mu.Lock()
	if w.stop {
		w.mu.Unlock()
		return ErrClosed
	}
	w.waiters = append(w.waiters, ch)
	w.mu.Unlock()
	w.chip.SetReadDeadline(time.Now())
	select {
	case err := <-ch:
		return err
	case <-time.After(SettleTimeout):
		return fmt.Errorf("jumper: no settle within %v: the wire's goroutine is stuck", SettleTimeout)
	}
}

// Disturb forces the wire that line is on to level, as a glitch coupled onto the board would,
// until the returned function is called; both settle the wire before they return. It is for
// tests that inject a change only the wire sees: no kernel event says so, and the ends' own
// drivers are not counted as fighting it.
func (w *Wire) Disturb(line string, level int) (undo func() error, err error) {
	w.state.Lock()
	var n *net
	for _, x := range w.nets {
		if slices.Contains(x.ends, line) {
			n = x
		}
	}
	if n == nil {
		w.state.Unlock()
		return nil, fmt.Errorf("jumper: disturb %s: no such end", line)
	}
	force, stuck := n.force, n.stuck
	n.force, n.stuck = &level, true
	for _, name := range n.ends {
		w.ends[name].dirty = true
	}
	w.state.Unlock()
	undo = func() error {
		w.state.Lock()
		n.force, n.stuck = force, stuck
		for _, name := range n.ends {
			w.ends[name].dirty = true
		}
		w.state.Unlock()
		return w.Settle()
	}
	if err := w.Settle(); err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

// Contentions lists every contention so far.
func (w *Wire) Contentions() []Contention {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.contentions)
}

// Level returns the level of the wire at line as last resolved.
func (w *Wire) Level(line string) (int, error) {
	w.state.Lock()
	defer w.state.Unlock()
	for _, n := range w.nets {
		if slices.Contains(n.ends, line) {
			return n.level, nil
		}
	}
	return 0, fmt.Errorf("jumper: line %s is on no jumper", line)
}

// Wires describes the simulated wiring, one wire per line, e.g. "GPIO17+GPIO22".
func (w *Wire) Wires() []string {
	w.state.Lock()
	defer w.state.Unlock()
	var s []string
	for _, n := range w.nets {
		s = append(s, n.String())
	}
	sort.Strings(s)
	return s
}

// Err returns the first error the wire's goroutine met, if any.
func (w *Wire) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the wire and waits for its goroutine to end. The simulated pulls keep the levels
// last written. It returns the first error the goroutine met.
func (w *Wire) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.stop = true
		w.mu.Unlock()
		w.chip.SetReadDeadline(time.Now())
		<-w.done
		w.closeFds()
	})
	return w.Err()
}

var infoChangedSize = int(unsafe.Sizeof(uapi.LineInfoChangedV2{}))

// maxScans bounds the rescans of one cycle: a scan is taken again when line-info events
// arrived while it ran (its lines were read at different moments, and a reconfiguration in
// between could show, say, the old output of one end beside the new output of the other: a
// contention that never was). A program that reconfigures lines without pause cannot hold the
// wire for longer than this many scans.
const maxScans = 8

// cycle drains line-info events, rescans every end, resolves every wire and writes the pulls.
// It reports whether the wire should poll: whether any end drives, or is exported through
// sysfs, whose changes raise no event.
func (w *Wire) cycle() (bool, error) {
	w.state.Lock()
	defer w.state.Unlock()
	poll := false
	for range maxScans {
		if err := w.drain(); err != nil {
			return true, err
		}
		var err error
		if poll, err = w.scan(); err != nil {
			return true, err
		}
		fds := []unix.PollFd{{Fd: int32(w.chipFd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 0); n == 0 {
			break
		}
	}
	for _, n := range w.nets {
		if msg := n.resolve(w.states, w.cfg.MidRail); msg != "" {
			w.mu.Lock()
			w.contentions = append(w.contentions, Contention{At: time.Now(), Wire: n.String(), Message: msg})
			w.mu.Unlock()
		}
		for _, name := range n.ends {
			e := w.ends[name]
			if e.written == n.level && !e.dirty {
				continue
			}
			pull := vocab.PullDown
			if n.level == 1 {
				pull = vocab.PullUp
			}
			if _, err := unix.Pwrite(e.pullFd, []byte(string(pull)), 0); err != nil {
				return true, fmt.Errorf("jumper: write %s to the sim pull of %s: %w", pull, e.name, err)
			}
			e.written, e.dirty = n.level, false
		}
	}
	return poll, nil
}

// drain reads every queued line-info event and applies the bias it carries: a request made
// and released since the last look still leaves its pull.
func (w *Wire) drain() error {
	buf := make([]byte, 16*infoChangedSize)
	for {
		n, err := unix.Read(w.chipFd, buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jumper: read line-info events: %w", err)
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off+infoChangedSize <= n; off += infoChangedSize {
			var ev uapi.LineInfoChangedV2
			if err := binary.Read(bytes.NewReader(buf[off:off+infoChangedSize]), binary.NativeEndian, &ev); err != nil {
				return fmt.Errorf("jumper: decode line-info event: %w", err)
			}
			if e := w.byOff[int(ev.Info.Offset)]; e != nil {
				if p := pullOf(ev.Info.Flags); p != "" {
					e.pull = p
				}
				e.dirty = true // a request with a bias overwrote the sim pull; write it again
			}
		}
	}
}

// scan reads every end's current line info, and the value of each end that drives.
func (w *Wire) scan() (poll bool, err error) {
	var vbuf [8]byte
	for _, e := range w.ends {
		info, err := uapi.GetLineInfoV2(uintptr(w.chipFd), e.offset)
		if err != nil {
			return true, fmt.Errorf("jumper: line info of %s: %w", e.name, err)
		}
		e.driven = false
		if !info.Flags.IsUsed() {
			continue
		}
		if uapi.BytesToString(info.Consumer[:]) == "sysfs" {
			poll = true
		}
		if p := pullOf(info.Flags); p != "" {
			e.pull = p
		}
		if info.Flags.IsOutput() {
			n, err := unix.Pread(e.valueFd, vbuf[:], 0)
			if err != nil || n == 0 {
				return true, fmt.Errorf("jumper: read the sim value of %s: %v", e.name, err)
			}
			e.driven, e.value, poll = true, int(vbuf[0]-'0'), true
		}
	}
	return poll, nil
}

// pullOf is the pull a request's flags set; "" when they set none (as-is).
func pullOf(f uapi.LineFlagV2) vocab.Pull {
	switch {
	case f&uapi.LineFlagV2BiasPullUp != 0:
		return vocab.PullUp
	case f&uapi.LineFlagV2BiasPullDown != 0:
		return vocab.PullDown
	case f&uapi.LineFlagV2BiasDisabled != 0:
		return vocab.PullNone
	}
	return ""
}

// String describes the board, e.g. for test logs.
func (w *Wire) String() string {
	s := fmt.Sprintf("wire on %s: %v, mid-rail %s", w.cfg.Chip.Label, w.Wires(), w.cfg.MidRail)
	if len(w.cfg.Faults) > 0 {
		var fs []string
		for _, f := range w.cfg.Faults {
			fs = append(fs, f.String())
		}
		s += fmt.Sprintf(", faults: %v", fs)
	}
	return s
}
