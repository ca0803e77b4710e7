package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Tracefs is where the kernel's trace file system is mounted (TraceGPIO mounts it there when
// it is not).
const Tracefs = "/sys/kernel/tracing"

// ErrNoGPIOTrace is matched by TraceGPIO's error when the kernel has no gpiolib trace events.
var ErrNoGPIOTrace = errors.New("no gpio trace events")

// tracer is the process's use of the kernel's gpio trace events: they are switched on once,
// filtered to the line being recorded, and read through trace_pipe, which hands out each event
// once; DisableGPIOTrace switches them off again. Switching events on and off per recording
// would patch the kernel's text each time (its tracepoints are static keys), which under
// emulation costs more than the specs.
var tracer struct {
	sync.Mutex
	pipe   int    // trace_pipe, non-blocking; 0 while off
	filter string // the events' filter: the lines they are for
	busy   bool   // a recording or a follow runs
}

// GPIOTrace records gpiolib's trace events of one line: gpio_direction (every direction the
// kernel sets, with the driver's answer) and gpio_value (every level it sets), with the
// kernel's CLOCK_MONOTONIC timestamps, the clock of line-info events. They are what the
// kernel asks the chip's driver to do for a request through the character device or sysfs;
// what a driver does by itself (gpio-sim returning a released line to its pull,
// pinctrl-bcm2835 turning a released output into an input) and a tool writing the registers
// (RPi.GPIO) raise none.
//
// The kernel keeps the events in its ring buffer, so nothing is lost while the recording
// runs; they are read when it stops. It needs root, and a kernel with CONFIG_FTRACE
// (gpiohil's VM kernel has it, and Debian's arm64 kernel on the emulated Pis). One recording
// runs at a time.
type GPIOTrace struct {
	gpio    int
	line    Line
	started time.Duration
	stopped bool
}

// TraceGPIO starts recording line l's gpio trace events. The events stay on until
// DisableGPIOTrace.
func TraceGPIO(l Line) (*GPIOTrace, error) {
	base, err := SysfsBase(l.Chip)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: its global GPIO number is not known: %v", ErrNoGPIOTrace, l, err)
	}
	tracer.Lock()
	defer tracer.Unlock()
	if tracer.busy {
		return nil, errors.New("gpio trace: another recording runs")
	}
	t := &GPIOTrace{gpio: base + l.Offset, line: l}
	if err := enableGPIOTrace([]int{t.gpio}); err != nil {
		return nil, err
	}
	if _, err := drainPipe(nil); err != nil { // what came before is not this recording's
		return nil, err
	}
	tracer.busy = true
	t.started = Monotonic()
	return t, nil
}

// enableGPIOTrace switches the gpio events on, filtered to gpios, unless they already are.
// Called with tracer held.
func enableGPIOTrace(gpios []int) error {
	var fs []string
	for _, g := range gpios {
		fs = append(fs, fmt.Sprintf("gpio == %d", g))
	}
	filter := strings.Join(fs, " || ")
	if tracer.pipe != 0 && tracer.filter == filter {
		return nil
	}
	if err := mountTracefs(); err != nil {
		return err
	}
	for _, s := range []struct{ file, value string }{
		{"trace_clock", "mono"},
		{"events/gpio/gpio_value/filter", filter},
		{"events/gpio/gpio_direction/filter", filter},
		{"tracing_on", "1"},
		{"events/gpio/enable", "1"},
	} {
		if err := writeTrace(s.file, s.value); err != nil {
			return err
		}
	}
	if tracer.pipe == 0 {
		// Not an *os.File: the poller would park a read of it, and Fd would make it blocking.
		fd, err := unix.Open(filepath.Join(Tracefs, "trace_pipe"), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("gpio trace: open %s/trace_pipe: %w", Tracefs, err)
		}
		tracer.pipe = fd
	}
	tracer.filter = filter
	return nil
}

// DisableGPIOTrace switches the gpio trace events off, when TraceGPIO switched them on.
func DisableGPIOTrace() error {
	tracer.Lock()
	defer tracer.Unlock()
	if tracer.pipe == 0 {
		return nil
	}
	unix.Close(tracer.pipe)
	tracer.pipe = 0
	return writeTrace("events/gpio/enable", "0")
}

// drainPipe reads every event waiting in trace_pipe and returns those of the gpios in want
// (none for nil). Called with tracer held.
func drainPipe(want map[int]bool) ([]TracedEvent, error) {
	var es []TracedEvent
	var pending []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(tracer.pipe, buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line := string(pending[:i])
				pending = pending[i+1:]
				if want == nil {
					continue
				}
				gpio, e, ok, perr := parseTrace(line)
				if perr != nil {
					return nil, perr
				}
				if ok && want[gpio] {
					es = append(es, TracedEvent{GPIO: gpio, Event: e})
				}
			}
		}
		switch {
		case err == unix.EAGAIN || (err == nil && n == 0):
			return es, nil
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("gpio trace: read %s/trace_pipe: %w", Tracefs, err)
		}
	}
}

// Stop ends the recording and returns the line's events, At counting CLOCK_MONOTONIC.
func (t *GPIOTrace) Stop() ([]timeline.Event, error) {
	tracer.Lock()
	defer tracer.Unlock()
	if t.stopped {
		return nil, errors.New("gpio trace: stopped twice")
	}
	t.stopped, tracer.busy = true, false
	if tracer.pipe == 0 {
		return nil, errors.New("gpio trace: switched off while recording")
	}
	all, err := drainPipe(map[int]bool{t.gpio: true})
	if err != nil {
		return nil, fmt.Errorf("gpio trace of %s: %w", t.line, err)
	}
	var es []timeline.Event
	for _, e := range all {
		if e.At >= t.started-time.Millisecond {
			es = append(es, e.Event)
		}
	}
	return es, nil
}

// TracedEvent is one gpio trace event, the global GPIO number it is for and, from a
// TraceFollow, its line.
type TracedEvent struct {
	GPIO int
	Line Line
	timeline.Event
}

// TraceFollow follows gpiolib's trace events of several lines as they happen, for people
// watching lines (gpiohil watch). It holds the process's trace as a recording does: no
// recording runs beside it.
type TraceFollow struct {
	gpios  map[int]bool
	lines  map[int]Line
	closed bool
}

// FollowGPIOTrace switches the gpio trace events on for ls (one chip's or several) and returns
// a follower; Close switches them off again.
func FollowGPIOTrace(ls []Line) (*TraceFollow, error) {
	f := &TraceFollow{gpios: map[int]bool{}, lines: map[int]Line{}}
	var gpios []int
	for _, l := range ls {
		base, err := SysfsBase(l.Chip)
		if err != nil {
			return nil, fmt.Errorf("%w for %s: its global GPIO number is not known: %v", ErrNoGPIOTrace, l, err)
		}
		f.gpios[base+l.Offset], f.lines[base+l.Offset] = true, l
		gpios = append(gpios, base+l.Offset)
	}
	tracer.Lock()
	defer tracer.Unlock()
	if tracer.busy {
		return nil, errors.New("gpio trace: a recording runs")
	}
	if err := enableGPIOTrace(gpios); err != nil {
		return nil, err
	}
	if _, err := drainPipe(nil); err != nil {
		return nil, err
	}
	tracer.busy = true
	return f, nil
}

// Read returns the events since the last Read (or the start), each with its line, At on
// CLOCK_MONOTONIC.
func (f *TraceFollow) Read() ([]TracedEvent, error) {
	tracer.Lock()
	defer tracer.Unlock()
	if f.closed || tracer.pipe == 0 {
		return nil, errors.New("gpio trace: not followed")
	}
	es, err := drainPipe(f.gpios)
	for i := range es {
		es[i].Line = f.lines[es[i].GPIO]
	}
	return es, err
}

// Close stops following and switches the events off.
func (f *TraceFollow) Close() error {
	tracer.Lock()
	if f.closed {
		tracer.Unlock()
		return nil
	}
	f.closed, tracer.busy = true, false
	tracer.Unlock()
	return DisableGPIOTrace()
}

// traceLine is one event of the trace file, e.g.
//
//	gpiohil-123 [000] ..... 12.345678: gpio_value: 512 set 1
//	gpiohil-123 [000] ..... 12.345690: gpio_direction: 512 out (0)
var traceLine = regexp.MustCompile(`\s(\d+)\.(\d{6}): (gpio_value|gpio_direction): (\d+)\s+(\S+)\s+(\S+)\s*$`)

// ParseGPIOTrace reads one line of the trace file: the line's event, ok false for a line that
// is not a gpio event of gpio (comments, other lines, a read of the value). A gpio event that
// does not parse is an error.
func ParseGPIOTrace(s string, gpio int) (timeline.Event, bool, error) {
	n, e, ok, err := parseTrace(s)
	if !ok || err != nil || n != gpio {
		return timeline.Event{}, false, err
	}
	return e, true, nil
}

// parseTrace reads one line of the trace file: the global GPIO number and its event.
func parseTrace(s string) (gpio int, _ timeline.Event, _ bool, _ error) {
	if strings.HasPrefix(s, "#") || !strings.Contains(s, ": gpio_") {
		return 0, timeline.Event{}, false, nil
	}
	m := traceLine.FindStringSubmatch(s)
	if m == nil {
		return 0, timeline.Event{}, false, fmt.Errorf("a gpio event that does not parse: %q", s)
	}
	gpio, _ = strconv.Atoi(m[4])
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	usec, _ := strconv.ParseInt(m[2], 10, 64)
	e := timeline.Event{At: time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, Source: timeline.GPIOTrace}
	switch m[3] {
	case "gpio_value":
		if m[5] != "set" {
			return gpio, timeline.Event{}, false, nil // a read changes nothing
		}
		e.What = "gpio_value set " + m[6]
		switch m[6] {
		case "0":
			e.Latch = vocab.Low
		case "1":
			e.Latch = vocab.High
		default:
			return gpio, timeline.Event{}, false, fmt.Errorf("gpio_value %q: want 0 or 1", m[6])
		}
	case "gpio_direction":
		e.What = "gpio_direction " + m[5] + " " + m[6]
		if m[6] != "(0)" { // the driver refused it: nothing changed
			return gpio, e, true, nil
		}
		switch m[5] {
		case "out":
			e.Direction, e.Drive = vocab.Output, vocab.Driven
		case "in":
			e.Direction, e.Drive, e.Level = vocab.Input, vocab.DriveUnknown, vocab.LevelUnknown
		default:
			return gpio, timeline.Event{}, false, fmt.Errorf("gpio_direction %q: want in or out", m[5])
		}
	}
	return gpio, e, true, nil
}

// mountTracefs mounts tracefs at Tracefs unless the gpio events are already there.
func mountTracefs() error {
	events := filepath.Join(Tracefs, "events", "gpio")
	if _, err := os.Stat(events); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(Tracefs, "trace")); err != nil {
		if err := unix.Mount("nodev", Tracefs, "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%w: mount tracefs at %s: %v (a kernel without CONFIG_FTRACE, or not root)", ErrNoGPIOTrace, Tracefs, err)
		}
	}
	if _, err := os.Stat(events); err != nil {
		return fmt.Errorf("%w: %s is missing (a kernel without gpiolib's trace events)", ErrNoGPIOTrace, events)
	}
	return nil
}

func writeTrace(file, value string) error {
	p := filepath.Join(Tracefs, file)
	if err := os.WriteFile(p, []byte(value), 0); err != nil {
		return fmt.Errorf("gpio trace: write %q to %s: %w", value, p, err)
	}
	return nil
}

// Monotonic is CLOCK_MONOTONIC now, the clock of the kernel's line-info, edge and trace events.
func Monotonic() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // CLOCK_MONOTONIC exists on every Linux
	}
	return time.Duration(ts.Nano())
}
