// Package safety is the one place where gpiohil requests the lines of a loopback rig, and the
// rules it keeps while doing so, so that finding out what a pin does never damages the board.
//
// Wiring: a rig joins pairs of header pins with jumpers, a line under test and its partner
// (package rig). Two outputs joined by a jumper and driving opposite levels are a short
// circuit through both pins' drivers; a Pi's GPIO is not made to survive that for long.
//
// The rules, enforced by [Interlock] and tested in the VM:
//
//  1. Only rig-declared lines are touched: a line not in the rig's may-touch list is refused.
//  2. Never both ends of a pair as outputs at once: gpiohil drives a line only while it holds
//     that line's partner itself, as an input. Lines without a partner are never driven.
//  3. The partner is an input before a tool under test is started: [Interlock.GuardPartner]
//     holds it as an input with bias disabled, so no other program can make it an output and
//     its own pull does not disturb the pin under test.
//  4. Lines held by the kernel or by another program, and pins muxed away from GPIO, are
//     refused before anything is requested ([Preflight]).
//  5. One run per board at a time: [LockBoard] takes an exclusive lock named after the chip.
//  6. On Ctrl-C or SIGTERM every touched line is restored: [Interlock.RestoreAll] is safe to
//     call from a signal handler's goroutine at any moment, turns every held line back into an
//     input with bias disabled before releasing it, and refuses every later operation.
//
// Every input the interlock requests carries an edge handler from the start, so watching a held
// partner's edges ([Interlock.WatchEdges]) reconfigures a line it already holds: the partner is
// never let go while a tool may drive its other end, and the watch changes neither direction
// nor bias. The watch ends before the interlock's next change of that line.
//
// Rule 2 covers the harness's own requests; rule 3 keeps the tool under test from being the
// second driver. What neither can stop is a program outside gpiohil that drives a partner
// pin: a series resistor in each jumper (see docs/hardware.md) limits the current if that
// happens.
package safety

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

var (
	// ErrRefused is matched by every refusal of the interlock.
	ErrRefused = errors.New("refused by the safety interlock")
	// ErrClosed is returned for operations after RestoreAll.
	ErrClosed = errors.New("lines already restored: the interlock is closed")
)

// RefusedError says which line an operation was refused on, and why.
type RefusedError struct {
	Op     string // "drive", "request", ...
	Line   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("safety: refused to %s %s: %s", e.Op, e.Line, e.Reason)
}

// Unwrap makes RefusedError match ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Config describes the lines an Interlock guards.
type Config struct {
	Chip     *gpiocdev.Chip // the rig's chip, open; the interlock does not close it
	Label    string         // the chip's label, for messages
	Lines    map[string]int // the rig's may-touch lines: name to offset
	Pairs    [][2]string    // line under test, partner
	Consumer string         // consumer name of every request; default bench.Consumer
}

// hold is a line the interlock holds requested.
type hold struct {
	req    *gpiocdev.Line
	output bool
	value  int
	bias   vocab.Bias
	edges  bool // edge detection is on (an EdgeWatch)
}

// Interlock requests rig lines for the harness and refuses what could harm the board.
type Interlock struct {
	mu       sync.Mutex
	cfg      Config
	partner  map[string]string
	held     map[string]*hold
	touched  map[string]bool
	closed   bool
	consumer string

	// wmu guards watches apart from mu: the edge handler takes it from gpiocdev's goroutine.
	wmu     sync.Mutex
	watches map[string]*EdgeWatch
}

// New returns an interlock over the rig's lines. It requests nothing yet.
func New(cfg Config) *Interlock {
	il := &Interlock{cfg: cfg, partner: map[string]string{}, held: map[string]*hold{}, touched: map[string]bool{}, consumer: cfg.Consumer, watches: map[string]*EdgeWatch{}}
	if il.consumer == "" {
		il.consumer = bench.Consumer
	}
	for _, p := range cfg.Pairs {
		il.partner[p[0]], il.partner[p[1]] = p[1], p[0]
	}
	return il
}

// Partner returns a line's partner.
func (il *Interlock) Partner(line string) (string, bool) {
	p, ok := il.partner[line]
	return p, ok
}

// Touched lists every line the interlock has requested, sorted.
func (il *Interlock) Touched() []string {
	il.mu.Lock()
	defer il.mu.Unlock()
	var ls []string
	for l := range il.touched {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return ls
}

func (il *Interlock) line(op, name string) (bench.Line, error) {
	if il.closed {
		return bench.Line{}, fmt.Errorf("safety: %s %s: %w", op, name, ErrClosed)
	}
	off, ok := il.cfg.Lines[name]
	if !ok {
		return bench.Line{}, &RefusedError{Op: op, Line: name, Reason: "it is not in the rig's may-touch list; gpiohil touches only the lines the rig declares"}
	}
	return bench.Line{Chip: il.cfg.Label, Name: name, Offset: off}, nil
}

// mayDrive checks rule 2 for driving name. Called with il.mu held.
func (il *Interlock) mayDrive(name string) error {
	p, ok := il.partner[name]
	if !ok {
		return &RefusedError{Op: "drive", Line: name, Reason: "it has no partner in the rig; gpiohil drives only paired lines, whose partner it holds as an input"}
	}
	h := il.held[p]
	switch {
	case h == nil:
		return &RefusedError{Op: "drive", Line: name, Reason: fmt.Sprintf("its partner %s is not held by gpiohil as an input, so something else could drive it: both ends of the jumper could be outputs at once", p)}
	case h.output:
		return &RefusedError{Op: "drive", Line: name, Reason: fmt.Sprintf("its partner %s is an output: both ends of the jumper would be outputs at once", p)}
	}
	return nil
}

// request requests l with opts, naming the holder when the line is busy. Called with il.mu held.
func (il *Interlock) request(l bench.Line, opts ...gpiocdev.LineReqOption) (*gpiocdev.Line, error) {
	il.touched[l.Name] = true
	req, err := il.cfg.Chip.RequestLine(l.Offset, append(opts, gpiocdev.WithConsumer(il.consumer))...)
	if errors.Is(err, unix.EBUSY) {
		be := &bench.BusyError{Line: l}
		if info, ierr := il.cfg.Chip.LineInfo(l.Offset); ierr == nil {
			be.Consumer = info.Consumer
		}
		return nil, be
	}
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", l, err)
	}
	return req, nil
}

// Input holds the line as an input with the given bias (vocab.BiasPullUp, ...), requesting it
// or reconfiguring the request it already holds.
func (il *Interlock) Input(name string, bias vocab.Bias) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	l, err := il.line("request", name)
	if err != nil {
		return err
	}
	b, err := bench.BiasOption(bias)
	if err != nil {
		return err
	}
	if h := il.held[name]; h != nil {
		if err := il.endWatch(name, "gpiohil set its bias"); err != nil {
			return err
		}
		if err := h.req.Reconfigure(gpiocdev.AsInput, b); err != nil {
			return fmt.Errorf("reconfigure %s as input %s: %w", l, bias, err)
		}
		h.output, h.bias = false, bias
		return nil
	}
	// Every held input can have its edges watched (WatchEdges) without a new request, which
	// would leave it unheld for a moment: the handler is given now, edge detection stays off.
	req, err := il.request(l, gpiocdev.AsInput, b, gpiocdev.WithEventHandler(il.onEdge(name)))
	if err != nil {
		return err
	}
	il.held[name] = &hold{req: req, bias: bias}
	return nil
}

// Output holds the line as an output at value. It is refused unless the interlock holds the
// line's partner as an input (rule 2).
func (il *Interlock) Output(name string, value int) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	l, err := il.line("drive", name)
	if err != nil {
		return err
	}
	if err := il.mayDrive(name); err != nil {
		return err
	}
	if h := il.held[name]; h != nil {
		if err := il.endWatch(name, "gpiohil drove it"); err != nil {
			return err
		}
		if err := h.req.Reconfigure(gpiocdev.AsOutput(value)); err != nil {
			return fmt.Errorf("reconfigure %s as output %d: %w", l, value, err)
		}
		h.output, h.value = true, value
		return nil
	}
	req, err := il.request(l, gpiocdev.AsOutput(value))
	if err != nil {
		return err
	}
	il.held[name] = &hold{req: req, output: true, value: value}
	return nil
}

// Read returns the level of a line the interlock holds.
func (il *Interlock) Read(name string) (int, error) {
	il.mu.Lock()
	defer il.mu.Unlock()
	if il.closed {
		return 0, fmt.Errorf("safety: read %s: %w", name, ErrClosed)
	}
	h := il.held[name]
	if h == nil {
		return 0, fmt.Errorf("safety: read %s: the line is not held; hold it as an input first", name)
	}
	v, err := h.req.Value()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return v, nil
}

// Release turns a held line into an input with bias disabled and releases it. A line that is
// not held is left alone.
func (il *Interlock) Release(name string) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	if il.closed {
		return fmt.Errorf("safety: release %s: %w", name, ErrClosed)
	}
	return il.release(name)
}

func (il *Interlock) release(name string) error {
	h := il.held[name]
	if h == nil {
		return nil
	}
	werr := il.endWatch(name, "gpiohil released it")
	delete(il.held, name)
	rerr := h.req.Reconfigure(gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	cerr := h.req.Close()
	if werr != nil {
		return werr
	}
	if rerr != nil {
		return fmt.Errorf("restore %s to input with bias disabled: %w", name, rerr)
	}
	if cerr != nil {
		return fmt.Errorf("release %s: %w", name, cerr)
	}
	return nil
}

// Apply puts a line in state s and releases it at once, leaving whatever the platform keeps
// after a release: the way a bench prepares a pre-state. An output state is refused unless the
// interlock holds the partner as an input.
func (il *Interlock) Apply(name string, s bench.State) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	op := "request"
	if s.Direction == vocab.Output {
		op = "drive"
	}
	l, err := il.line(op, name)
	if err != nil {
		return err
	}
	b, err := bench.BiasOption(s.Bias)
	if err != nil {
		return err
	}
	var dir interface {
		gpiocdev.LineReqOption
		gpiocdev.LineConfigOption
	} = gpiocdev.AsInput
	switch s.Direction {
	case vocab.Input:
	case vocab.Output:
		if err := il.mayDrive(name); err != nil {
			return err
		}
		dir = gpiocdev.AsOutput(s.Value)
	default:
		return fmt.Errorf("safety: apply %s to %s: direction %q: want input or output", s, name, s.Direction)
	}
	if h := il.held[name]; h != nil {
		werr := il.endWatch(name, "gpiohil set it")
		delete(il.held, name)
		rerr := h.req.Reconfigure(dir, b)
		cerr := h.req.Close()
		return errors.Join(werr, rerr, cerr)
	}
	req, err := il.request(l, dir, b)
	if err != nil {
		return err
	}
	return req.Close()
}

// GuardPartner makes sure the partner of line is held by the interlock as an input with bias
// disabled, and that the line itself is not held, so a tool under test may request it (rule 3).
func (il *Interlock) GuardPartner(line string) error {
	p, ok := il.partner[line]
	if !ok {
		return &RefusedError{Op: "guard", Line: line, Reason: "it has no partner in the rig"}
	}
	if err := il.Release(line); err != nil {
		return err
	}
	return il.Input(p, vocab.BiasDisabled)
}

// Restore requests a line that the interlock does not hold as an input with bias disabled and
// releases it; a held line is released the same way.
func (il *Interlock) Restore(name string) error {
	il.mu.Lock()
	defer il.mu.Unlock()
	l, err := il.line("restore", name)
	if err != nil {
		return err
	}
	if il.held[name] != nil {
		return il.release(name)
	}
	req, err := il.request(l, gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	if err != nil {
		return fmt.Errorf("restore %s: %w", name, err)
	}
	return req.Close()
}

// RestoreAll returns every line the interlock touched to input with bias disabled and
// releases it, then refuses every later operation with ErrClosed. Lines are restored outputs
// first. It is safe to call at any moment from any goroutine, a signal handler's included,
// and more than once.
func (il *Interlock) RestoreAll() error {
	il.mu.Lock()
	defer il.mu.Unlock()
	if il.closed {
		return nil
	}
	var errs []error
	var order []string
	for name, h := range il.held {
		if h.output {
			order = append(order, name)
		}
	}
	for name, h := range il.held {
		if !h.output {
			order = append(order, name)
		}
	}
	for _, name := range order {
		if err := il.release(name); err != nil {
			errs = append(errs, err)
		}
	}
	var rest []string
	for name := range il.touched {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		if slices.Contains(order, name) {
			continue
		}
		l := bench.Line{Chip: il.cfg.Label, Name: name, Offset: il.cfg.Lines[name]}
		req, err := il.request(l, gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", name, err))
			continue
		}
		if err := req.Close(); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: release: %w", name, err))
		}
	}
	il.closed = true
	return errors.Join(errs...)
}
