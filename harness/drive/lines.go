package drive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"
)

// target is one line to drive, found on its chip.
type target struct {
	chip   string // device name, e.g. gpiochip3
	offset int
	name   string // the line's name, "" if it has none
	value  int    // level for an output
}

func (t target) String() string {
	if t.name != "" {
		return fmt.Sprintf("%s (%s offset %d)", t.name, t.chip, t.offset)
	}
	return fmt.Sprintf("%s offset %d", t.chip, t.offset)
}

// lineBias maps a Bias to its go-gpiocdev option; as-is has none: the request then leaves the
// bias alone.
var lineBias = map[vocab.Bias]gpiocdev.LineBias{
	vocab.BiasDisabled: gpiocdev.WithBiasDisabled,
	vocab.BiasPullUp:   gpiocdev.WithPullUp,
	vocab.BiasPullDown: gpiocdev.WithPullDown,
}

// request finds the lines and requests them as c says, one request per chip. On error nothing
// stays requested.
func request(c Config, args []lineArg) (held, error) {
	targets, err := find(c.Chip, args)
	if err != nil {
		return nil, err
	}
	// Group by chip, in the order the chips are first named: a request covers one chip.
	var chips []string
	byChip := map[string][]target{}
	for _, t := range targets {
		if byChip[t.chip] == nil {
			chips = append(chips, t.chip)
		}
		byChip[t.chip] = append(byChip[t.chip], t)
	}
	var h held
	for _, chip := range chips {
		r, err := requestOnChip(c, chip, byChip[chip])
		if err != nil {
			return nil, errors.Join(err, h.release())
		}
		h = append(h, r)
	}
	return h, nil
}

// requestOnChip requests lines of one chip in a single request, so the kernel grants all of
// them or none.
func requestOnChip(c Config, chipName string, ts []target) (*chipRequest, error) {
	chip, err := openChip(chipName)
	if err != nil {
		return nil, err
	}
	// A granted request has its own file descriptor and outlives the chip's.
	defer chip.Close()

	offsets := make([]int, len(ts))
	values := make([]int, len(ts))
	for i, t := range ts {
		offsets[i], values[i] = t.offset, t.value
	}
	opts := []gpiocdev.LineReqOption{gpiocdev.WithConsumer(c.Consumer)}
	if c.Direction == vocab.Output {
		// The levels are part of the request: the lines become outputs already at their
		// level, with no glitch through a default level first.
		opts = append(opts, gpiocdev.AsOutput(values...))
	} else {
		opts = append(opts, gpiocdev.AsInput)
	}
	if b, ok := lineBias[c.Bias]; ok {
		opts = append(opts, b)
	}
	lines, err := chip.RequestLines(offsets, opts...)
	switch {
	case errors.Is(err, unix.EBUSY):
		return nil, busyError(chip, ts, err)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("drive: request %s: %w%s", held{{targets: ts}}, err, permissionHint(chipPath(chipName)))
	case err != nil:
		return nil, fmt.Errorf("drive: request %s as %s with bias %s: %w", held{{targets: ts}}, c.Direction, c.Bias, err)
	}
	return &chipRequest{lines: lines, targets: ts}, nil
}

// busyError explains EBUSY: the kernel only says that some line of the request is taken, line
// info says which and by whom.
func busyError(chip *gpiocdev.Chip, ts []target, err error) error {
	var taken []string
	for _, t := range ts {
		info, ierr := chip.LineInfo(t.offset)
		if ierr == nil && info.Used {
			taken = append(taken, fmt.Sprintf("%s is held by %s", t, holder(info.Consumer)))
		}
	}
	if len(taken) == 0 {
		return fmt.Errorf("drive: request %s: %w (whoever held it let go before it could be named; try again)", held{{targets: ts}}, err)
	}
	return fmt.Errorf("drive: line busy: %s: %w", strings.Join(taken, "; "), err)
}

// holder describes the consumer line info names for a line in use.
func holder(consumer string) string {
	switch consumer {
	case "":
		return "an unnamed user"
	case "sysfs":
		// A legacy sysfs export is owned by the kernel, not by a process: it outlives the
		// program that made it and blocks every request until it is undone.
		return `"sysfs" (it is exported in /sys/class/gpio: unexport it to free the line)`
	}
	return strconv.Quote(consumer)
}

// find resolves LINE arguments to chips and offsets: by name on every chip when chipArg is
// empty, else on that chip, where a number is an offset.
func find(chipArg string, args []lineArg) ([]target, error) {
	var targets []target
	if chipArg == "" {
		for _, a := range args {
			chip, offset, err := gpiocdev.FindLine(a.line)
			if err != nil {
				return nil, lineNotFound(a.line, err)
			}
			targets = append(targets, target{chip: chip, offset: offset, name: a.line, value: a.value})
		}
	} else {
		chip, err := findChip(chipArg)
		if err != nil {
			return nil, err
		}
		defer chip.Close()
		for _, a := range args {
			t, err := findOnChip(chip, a)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
	}
	// The same line can hide behind two spellings (a name and an offset).
	type line struct {
		chip   string
		offset int
	}
	seen := map[line]bool{}
	for _, t := range targets {
		key := line{t.chip, t.offset}
		if seen[key] {
			return nil, fmt.Errorf("drive: line %s is given twice", t)
		}
		seen[key] = true
	}
	return targets, nil
}

// findOnChip resolves one LINE on an open chip: an offset if it is a number, else a name.
func findOnChip(chip *gpiocdev.Chip, a lineArg) (target, error) {
	offset, err := strconv.Atoi(a.line)
	if err != nil || strings.ContainsAny(a.line, "+-") {
		offset, err = chip.FindLine(a.line)
		if err != nil {
			return target{}, fmt.Errorf("drive: no line named %q on %s", a.line, describe(chip))
		}
		return target{chip: chip.Name, offset: offset, name: a.line, value: a.value}, nil
	}
	if offset < 0 || offset >= chip.Lines() {
		return target{}, fmt.Errorf("drive: offset %d is out of range: %s has %d lines (offsets 0 to %d)", offset, describe(chip), chip.Lines(), chip.Lines()-1)
	}
	t := target{chip: chip.Name, offset: offset, value: a.value}
	if info, err := chip.LineInfo(offset); err == nil {
		t.name = info.Name // only to name the line in messages
	}
	return t, nil
}

// lineNotFound explains why a line name was found on no chip. gpiocdev.FindLine skips chips it
// cannot open, so a permission problem looks like a missing line unless we look again.
func lineNotFound(name string, err error) error {
	if !errors.Is(err, gpiocdev.ErrNotFound) {
		return fmt.Errorf("drive: find line %q: %w", name, err)
	}
	found, failed := survey()
	var msg strings.Builder
	fmt.Fprintf(&msg, "drive: no line named %q", name)
	switch {
	case len(found) == 0 && len(failed) == 0:
		msg.WriteString(": there are no GPIO chips (no /dev/gpiochip* devices)")
	case len(found) > 0:
		fmt.Fprintf(&msg, " on any chip (searched %s)", strings.Join(found, ", "))
	}
	msg.WriteString(unopened(failed))
	if _, err := strconv.Atoi(name); err == nil {
		msg.WriteString("; to give an offset, name its chip with --chip")
	}
	return errors.New(msg.String())
}

// findChip opens the chip named by a device name (gpiochip3), a path (/dev/gpiochip3) or, when
// it is neither, a label.
func findChip(arg string) (*gpiocdev.Chip, error) {
	if strings.Contains(arg, "/") {
		return openChip(arg)
	}
	if _, err := os.Lstat(chipPath(arg)); err == nil {
		return openChip(arg)
	}
	// A label: open every chip and compare. Chip numbers depend on the order the kernel
	// registered the chips in; labels do not.
	var found []string
	var failed []failure
	for _, name := range gpiocdev.Chips() {
		chip, err := gpiocdev.NewChip(name)
		if err != nil {
			failed = append(failed, failure{chipPath(name), err})
			continue
		}
		if chip.Label == arg {
			return chip, nil
		}
		found = append(found, describe(chip))
		chip.Close()
	}
	return nil, chipNotFound(arg, found, failed)
}

// openChip opens a chip by device name or path and explains the usual failures.
func openChip(name string) (*gpiocdev.Chip, error) {
	chip, err := gpiocdev.NewChip(name)
	switch {
	case err == nil:
		return chip, nil
	case errors.Is(err, fs.ErrNotExist):
		found, failed := survey()
		return nil, chipNotFound(name, found, failed)
	case errors.Is(err, gpiocdev.ErrNotCharacterDevice):
		return nil, fmt.Errorf("drive: %s is not a GPIO chip", chipPath(name))
	case errors.Is(err, fs.ErrPermission):
		// os.OpenFile's error already says "open /dev/gpiochipN: permission denied".
		return nil, fmt.Errorf("drive: %w%s", err, permissionHint(chipPath(name)))
	}
	return nil, fmt.Errorf("drive: open GPIO chip %s: %w", chipPath(name), err)
}

// chipNotFound names the missing chip and lists the ones there are.
func chipNotFound(name string, found []string, failed []failure) error {
	var msg strings.Builder
	fmt.Fprintf(&msg, "drive: no GPIO chip %q", name)
	switch {
	case len(found) > 0:
		fmt.Fprintf(&msg, " (there are %s)", strings.Join(found, ", "))
	case len(failed) == 0:
		msg.WriteString(" (there are no GPIO chips: no /dev/gpiochip* devices)")
	}
	msg.WriteString(unopened(failed))
	return errors.New(msg.String())
}

// failure is a chip that could not be opened.
type failure struct {
	path string
	err  error
}

// survey lists the chips there are as "gpiochip0 [label]", and the ones it could not open.
func survey() (found []string, failed []failure) {
	for _, name := range gpiocdev.Chips() {
		chip, err := gpiocdev.NewChip(name)
		if err != nil {
			failed = append(failed, failure{chipPath(name), err})
			continue
		}
		found = append(found, describe(chip))
		chip.Close()
	}
	return found, failed
}

// unopened explains the chips a search could not open. Permission problems, the usual case,
// share one piece of advice.
func unopened(failed []failure) string {
	var msg strings.Builder
	var denied []string
	for _, f := range failed {
		if errors.Is(f.err, fs.ErrPermission) {
			denied = append(denied, f.path)
			continue
		}
		cause := f.err
		var pe *fs.PathError
		if errors.As(f.err, &pe) {
			cause = pe.Err // its message would repeat the path
		}
		fmt.Fprintf(&msg, "; could not open %s: %v", f.path, cause)
	}
	if len(denied) > 0 {
		fmt.Fprintf(&msg, "; could not open %s: permission denied%s", strings.Join(denied, ", "), permissionHint(denied[0]))
	}
	return msg.String()
}

// describe names a chip as gpiodetect does: "gpiochip3 [label]".
func describe(chip *gpiocdev.Chip) string {
	return fmt.Sprintf("%s [%s]", chip.Name, chip.Label)
}

// chipPath is the device path of a chip name, as go-gpiocdev forms it.
func chipPath(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/dev/" + name
}

// permissionHint says what to do when a chip cannot be opened. Raspberry Pi OS and most udev
// rules for GPIO give /dev/gpiochip* to the group "gpio"; the device's actual owner is shown
// so that the advice can be checked.
func permissionHint(path string) string {
	group, detail := "gpio", ""
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil {
		owner := strconv.Itoa(int(st.Gid))
		if g, err := user.LookupGroupId(owner); err == nil {
			owner = g.Name
		}
		if owner != "root" && owner != "0" {
			group = owner
		}
		detail = fmt.Sprintf(" (%s belongs to group %s, mode %04o)", path, owner, st.Mode&0o7777)
	}
	return fmt.Sprintf("; run as root or join the %s group%s", group, detail)
}
