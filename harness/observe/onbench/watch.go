package onbench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

// Watch prints, as they happen, the changes of the request's lines, from the best sources the
// bench has, never requesting a line it watches:
//
//   - line info: a process requesting a line (with its direction, bias and consumer),
//     reconfiguring it, releasing it; every kernel since 5.7. It sees every request through
//     the character device (libgpiod, gpiozero on lgpio, go-gpiocdev) and sysfs exports, not a
//     tool that writes the GPIO registers itself (RPi.GPIO, pigpio), and not levels.
//   - gpiolib's trace: every level and direction the kernel sets on the line, where the kernel
//     has the events (CONFIG_FTRACE) and the process may switch them on (root). They are
//     switched off again when the watch ends, Ctrl-C included.
//   - with a loopback rig (r.Rig), the partner pin's edges: the level the wire really had,
//     register-writing tools included. The partner is held as an input with bias disabled
//     while watching and put back after; no wiring check runs, so an open jumper shows no edge.
//
// Each line gets its state when the watch starts, then a line per change with the kernel's
// timestamp counted from that start, in time order (each is held back for Hold first). It returns when ctx is done or, when d > 0, after d. r.Args is [CHIP] LINE...,
// as for Observe.
func Watch(ctx context.Context, r Request, d time.Duration, out io.Writer) (err error) {
	if err := r.Validate(); err != nil {
		return err
	}
	cs, denied := listChips()
	var c chip
	var names []string
	var rigBench *loopback.Bench
	if r.Rig != nil {
		if names, err = r.rigLines("watch"); err != nil {
			return err
		}
		i := slices.IndexFunc(cs, func(c chip) bool { return c.Label == r.Rig.Chip })
		if i < 0 {
			return notHere("rig %s: no GPIO chip labelled %q here (%s)", r.Rig.File, r.Rig.Chip, describeChips(cs))
		}
		c = cs[i]
		if rigBench, err = loopback.Open(r.Rig, r.Loopback); err != nil {
			return fmt.Errorf("rig %s: %w", r.Rig.File, err)
		}
		defer func() {
			if cerr := rigBench.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("rig %s: put the partners back: %w", r.Rig.File, cerr))
			}
		}()
	} else if c, names, err = pickChip(r, cs, denied); err != nil {
		return err
	}
	ch, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		return fmt.Errorf("open %s: %w", c, err)
	}
	defer ch.Close()
	lines := make([]bench.Line, len(names))
	for i, n := range names {
		off, err := lineOffset(ch, n)
		if err != nil {
			return fmt.Errorf("chip %s: %w", c, err)
		}
		lines[i] = bench.Line{Chip: c.Label, ChipName: c.Name, Name: n, Offset: off}
	}

	w := &watcher{out: out, t0: bench.Monotonic(), lines: lines}
	var edges []*safety.EdgeWatch
	if rigBench != nil {
		for _, l := range lines {
			ew, err := rigBench.FollowPartner(l)
			if err != nil {
				return fmt.Errorf("rig %s: %w", r.Rig.File, err)
			}
			edges = append(edges, ew)
		}
	}
	sources := "requests, changes and releases (line info)"
	trace, terr := bench.FollowGPIOTrace(lines)
	if terr == nil {
		defer trace.Close()
		sources += ", levels and directions gpiolib sets (gpio trace)"
	}
	if rigBench != nil {
		sources += ", the wire's edges at each partner pin (no wiring check: an open jumper shows none)"
	}
	if terr != nil {
		sources += fmt.Sprintf("; levels gpiolib sets are not seen: %v", terr)
	}
	fmt.Fprintf(out, "watching %s on %s: %s; from now (+0 s)%s\n", strings.Join(names, ", "), c, sources, until(d))
	events := make(chan gpiocdev.LineInfoChangeEvent, 64)
	for _, l := range lines {
		info, err := ch.WatchLineInfo(l.Offset, func(ev gpiocdev.LineInfoChangeEvent) { events <- ev })
		if err != nil {
			return fmt.Errorf("watch %s on %s: %w", l.Name, c, err)
		}
		defer ch.UnwatchLineInfo(l.Offset)
		fmt.Fprintf(out, "%-12s %-12s %s\n", l.Name, "now", describe(info, info.Used))
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(Batch)
	defer tick.Stop()
	seen := make([]int, len(edges))
	flush := func(all bool) error {
		for more := true; more; {
			select {
			case ev := <-events:
				w.info(ev)
			default:
				more = false
			}
		}
		if trace != nil {
			tes, err := trace.Read()
			if err != nil {
				return err
			}
			for _, te := range tes {
				w.traced(te)
			}
		}
		for i, ew := range edges {
			es, _, _ := ew.Edges()
			for _, e := range es[seen[i]:] {
				w.edge(i, ew.Line, e)
			}
			seen[i] = len(es)
		}
		w.print(all)
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return flush(true)
		case <-timeout:
			return flush(true)
		case ev := <-events:
			w.info(ev)
		case <-tick.C:
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

// Batch is how often Watch gathers events, and Hold how long it keeps each before it prints
// them in time order: line info and a partner's edges come through goroutines of their own,
// gpiolib's trace is read at each batch, and under load one can come tens of milliseconds
// after another that happened later.
const (
	Batch = 20 * time.Millisecond
	Hold  = 200 * time.Millisecond
)

// watcher orders and prints a watch's events.
type watcher struct {
	out     io.Writer
	t0      time.Duration
	lines   []bench.Line
	pending []watched
}

type watched struct {
	at         time.Duration
	rank       int // of one instant: the pin's change (trace, edge) before line info's word
	line, kind string
	desc       string
}

func (w *watcher) info(ev gpiocdev.LineInfoChangeEvent) {
	name := strconv.Itoa(ev.Info.Offset)
	for _, l := range w.lines {
		if l.Offset == ev.Info.Offset {
			name = l.Name
		}
	}
	w.pending = append(w.pending, watched{at: ev.Timestamp, rank: 1, line: name, kind: kindOf(ev.Type), desc: describe(ev.Info, ev.Type != gpiocdev.LineReleased)})
}

func (w *watcher) traced(te bench.TracedEvent) {
	name := te.Line.Name
	e := te.Event
	kind, desc := "direction", e.What+" (gpiolib refused it)"
	switch {
	case e.Latch != "":
		kind, desc = "set", e.Latch.Word()+" (gpiolib)"
	case e.Direction == vocab.Output:
		desc = "output (gpiolib)"
	case e.Direction == vocab.Input:
		desc = "input (gpiolib)"
	}
	w.pending = append(w.pending, watched{at: e.At, line: name, kind: kind, desc: desc})
}

func (w *watcher) edge(i int, partner string, e safety.Edge) {
	desc := fmt.Sprintf("falling: the wire went low (partner %s)", partner)
	if e.Rising {
		desc = fmt.Sprintf("rising: the wire went high (partner %s)", partner)
	}
	w.pending = append(w.pending, watched{at: e.At, line: w.lines[i].Name, kind: "edge", desc: desc})
}

// SameInstant is how close two events of different sources must be to count as one moment,
// ordered then by what the kernel does first (the pin's change before line info's word): the
// trace's clock is read to the microsecond, and through another accessor than line info's.
const SameInstant = 10 * time.Microsecond

// print prints, in time order, the events older than Hold, or all of them.
func (w *watcher) print(all bool) {
	p := w.pending
	slices.SortStableFunc(p, func(a, b watched) int { return cmp.Compare(a.at, b.at) })
	cut := bench.Monotonic() - Hold
	n := 0
	for i := 0; i < len(p); {
		j := i + 1
		for j < len(p) && p[j].at-p[j-1].at < SameInstant {
			j++
		}
		if !all && p[j-1].at > cut {
			break
		}
		slices.SortStableFunc(p[i:j], func(a, b watched) int { return a.rank - b.rank })
		n, i = j, j
	}
	for _, e := range p[:n] {
		fmt.Fprintf(w.out, "%-12s %-12s %-12s %s\n", e.line, fmt.Sprintf("+%.6f s", (e.at-w.t0).Seconds()), e.kind, e.desc)
	}
	w.pending = slices.Delete(p, 0, n)
}

func until(d time.Duration) string {
	if d > 0 {
		return ", for " + d.String()
	}
	return ", until interrupted (Ctrl-C)"
}

// lineOffset finds a line of ch by its name or its offset.
func lineOffset(ch *gpiocdev.Chip, name string) (int, error) {
	var names []string
	for off := 0; off < ch.Lines(); off++ {
		info, err := ch.LineInfo(off)
		if err != nil {
			return 0, err
		}
		if info.Name == name {
			return off, nil
		}
		if info.Name != "" && len(names) < 8 {
			names = append(names, info.Name)
		}
	}
	if off, err := strconv.Atoi(name); err == nil && off >= 0 && off < ch.Lines() {
		return off, nil
	}
	return 0, notHere("no line %q: give a line's name or an offset below %d (names here: %s)", name, ch.Lines(), strings.Join(names, ", "))
}

func nameOf(names []string, offsets []int, off int) string {
	for i, o := range offsets {
		if o == off {
			return names[i]
		}
	}
	return strconv.Itoa(off)
}

func kindOf(t gpiocdev.LineInfoChangeType) string {
	switch t {
	case gpiocdev.LineRequested:
		return "requested"
	case gpiocdev.LineReleased:
		return "released"
	case gpiocdev.LineReconfigured:
		return "reconfigured"
	}
	return "change " + strconv.Itoa(int(t))
}

// describe is a line's configuration as line info gives it: who holds it, its direction and
// bias. After a release the kernel keeps the direction it cached (the driver may already have
// made the pin something else); the bias it clears.
func describe(info gpiocdev.LineInfo, used bool) string {
	dir := "input"
	if info.Config.Direction == gpiocdev.LineDirectionOutput {
		dir = "output"
	}
	bias := "bias as-is"
	switch info.Config.Bias {
	case gpiocdev.LineBiasPullUp:
		bias = "pull-up"
	case gpiocdev.LineBiasPullDown:
		bias = "pull-down"
	case gpiocdev.LineBiasDisabled:
		bias = "bias disabled"
	}
	who := "free"
	if used {
		who = "used"
		if info.Consumer != "" {
			who += " by " + strconv.Quote(info.Consumer)
		}
	}
	return fmt.Sprintf("%-6s %-13s %s", dir, bias, who)
}
