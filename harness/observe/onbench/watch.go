package onbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"
)

// Watch prints, as they happen, the changes of the request's lines that the kernel reports
// through line info: a process requesting a line (with its direction, bias and consumer),
// reconfiguring it, releasing it. Each line gets its state when the watch starts, then a line
// per change with the kernel's timestamp counted from that start. It never requests a line, so
// the lines are not disturbed. It returns when ctx is done or, when d > 0, after d.
//
// Line info is what the kernel knows of a line: it sees every request through the character
// device (libgpiod, gpiozero on lgpio, go-gpiocdev) and sysfs exports, not a tool that writes
// the GPIO registers itself (RPi.GPIO, pigpio), and not levels. r.Args is [CHIP] LINE..., as for
// Observe; a loopback rig is not watched.
func Watch(ctx context.Context, r Request, d time.Duration, out io.Writer) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Rig != nil {
		return errors.New("--rig: a rig's lines are watched on its chip: name the chip and the lines instead")
	}
	cs, denied := listChips()
	c, names, err := pickChip(r, cs, denied)
	if err != nil {
		return err
	}
	ch, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		return fmt.Errorf("open %s: %w", c, err)
	}
	defer ch.Close()
	offsets := make([]int, len(names))
	for i, n := range names {
		if offsets[i], err = lineOffset(ch, n); err != nil {
			return fmt.Errorf("chip %s: %w", c, err)
		}
	}

	var start unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &start)
	t0 := time.Duration(start.Nano())
	events := make(chan gpiocdev.LineInfoChangeEvent, 64)
	fmt.Fprintf(out, "watching %s on %s: every request, change and release the kernel reports, from now (+0 s)%s\n",
		strings.Join(names, ", "), c, until(d))
	for i, off := range offsets {
		info, err := ch.WatchLineInfo(off, func(ev gpiocdev.LineInfoChangeEvent) { events <- ev })
		if err != nil {
			return fmt.Errorf("watch %s on %s: %w", names[i], c, err)
		}
		defer ch.UnwatchLineInfo(off)
		fmt.Fprintf(out, "%-12s %-12s %s\n", names[i], "now", describe(info, info.Used))
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timeout:
			return nil
		case ev := <-events:
			at := fmt.Sprintf("+%.6f s", (ev.Timestamp - t0).Seconds())
			fmt.Fprintf(out, "%-12s %-12s %-12s %s\n", nameOf(names, offsets, ev.Info.Offset), at, kindOf(ev.Type), describe(ev.Info, ev.Type != gpiocdev.LineReleased))
		}
	}
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
	return 0, fmt.Errorf("no line %q: give a line's name or an offset below %d (names here: %s)", name, ch.Lines(), strings.Join(names, ", "))
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
