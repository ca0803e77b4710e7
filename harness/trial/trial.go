// Package trial runs one tool action on one line and collects the evidence: the line is
// prepared in a known pre-state, the tool's action runs as a subprocess and is ended the
// chosen way (package runner), and once the process is gone the observer says what the line
// is doing (package observe). This is the loop every persistence and cleanup check is made of.
//
//	res, err := trial.Run(ctx, b, line, trial.Case{
//		Profile: p, Action: vocab.SetOutput, Value: 1, Bias: vocab.BiasPullUp,
//		Ending: vocab.Exit, Pre: bench.State{Direction: vocab.Input, Bias: vocab.BiasPullDown},
//	})
//	// res.Before, res.After: observations; res.Run: how the tool ended.
package trial

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Deadline bounds one tool run: tools that set a line take milliseconds, but a guest under
// software emulation beside a busy host can stall for seconds (10 s was exceeded once in 30
// soak runs, ci/soak.sh, by a static Go tool loading over 9p while Python started beside it).
// A hang is still caught within the time a suite can afford.
const Deadline = 30 * time.Second

// Case is one trial.
type Case struct {
	Profile *profile.Profile
	Action  vocab.Action
	Value   int
	Bias    vocab.Bias
	Ending  vocab.Ending
	Pre     bench.State // the line's state before the tool runs
	// AsLeft runs the tool on the line as it is, not prepared in Pre: to run a cleanup again on
	// what the last one left.
	AsLeft bool
	// WhileHeld, for a holding action, runs once the tool holds the line, before it is ended.
	WhileHeld func()
	// Timeline records what the line did from the tool's start to the observation after it
	// (Result.Timeline); Emulated says the kernel runs in an emulator.
	Timeline, Emulated bool
}

func (c Case) String() string {
	return fmt.Sprintf("%s %s value %d bias %s, ended by %s, from %s", c.Profile.Name, c.Action, c.Value, c.Bias, c.Ending, c.Pre)
}

// Result is what a trial found.
type Result struct {
	Case   Case
	Argv   []string
	Before observe.Observation // after preparing, before the tool ran
	After  observe.Observation // after the tool's process was gone, with how it was released
	Run    *runner.Result
	// Changes are the line's line-info changes while the tool ran (nil without a watch).
	Changes bench.Changes
	// Timeline is what the line did, with Case.Timeline; TimelineNotes say what a source of it
	// could not give.
	Timeline      *timeline.Timeline
	TimelineNotes []string
}

// ErrSkip is matched by errors that mean the trial cannot be made here (the tool is not
// installed, or does not support the action or bias): a skip with that reason, not a failure.
var ErrSkip = errors.New("skipped")

// SkipError says why a trial was skipped.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Is makes SkipError match ErrSkip.
func (e *SkipError) Is(target error) bool { return target == ErrSkip }

// Vars returns the template variables for line l. SysfsNumber is -1 when the kernel has no
// legacy sysfs interface for the chip.
func Vars(l bench.Line, value int, bias vocab.Bias) profile.Vars {
	v := profile.Vars{Chip: l.Dev, ChipName: l.ChipName, ChipLabel: l.Chip, Line: l.Name, Offset: l.Offset, Value: value, Bias: bias, SysfsNumber: -1}
	if base, err := bench.SysfsBase(l.Chip); err == nil {
		v.SysfsNumber = base + l.Offset
	}
	return v
}

// installedCache remembers each profile's Installed answer for the life of the process: its
// check and version commands start the tool (a Python interpreter takes 0.2 s under emulation,
// over a second the first time), and a suite asks for every spec. A command that did not
// answer in time is not remembered: the next spec asks again.
var installedCache sync.Map // *profile.Profile -> *installedAnswer

type installedAnswer struct {
	mu    sync.Mutex
	known bool
	ok    bool
	why   string
}

// Installed is p.Installed(), asked once per profile per process; callers asking while the
// first answer is being found wait for it. It is safe to call from several goroutines, so a
// suite can ask in the background while its first specs run. An error (matching
// profile.ErrNoAnswer) means the answer is unknown: an infrastructure problem.
func Installed(p *profile.Profile) (ok bool, why string, err error) {
	v, _ := installedCache.LoadOrStore(p, &installedAnswer{})
	a := v.(*installedAnswer)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.known {
		ok, why, err := p.Installed()
		if err != nil {
			return false, "", err
		}
		a.known, a.ok, a.why = true, ok, why
	}
	return a.ok, a.why, nil
}

// NotForBench says why profile p does not run on benches of this kind, or "" when it does.
func NotForBench(p *profile.Profile, kind vocab.BenchKind) string {
	if ks := p.BenchKinds; len(ks) > 0 && !slices.Contains(ks, kind) {
		return fmt.Sprintf("profile %s is for benches %s, not %s", p.Name, strings.Join(vocab.Strings(ks), ", "), kind)
	}
	return ""
}

// Usable returns nil when profile p can run on a bench of this kind, and a *SkipError saying
// why when it cannot: the bench kind first (free), then whether its tool is installed
// (Installed, which may start it once). Any other error is an infrastructure problem: the
// tool's check did not answer.
func Usable(p *profile.Profile, kind vocab.BenchKind) error {
	if why := NotForBench(p, kind); why != "" {
		return &SkipError{Reason: why}
	}
	ok, why, err := Installed(p)
	if err != nil {
		return err
	}
	if !ok {
		return &SkipError{Reason: why}
	}
	return nil
}

// Run makes one trial on line l. Errors matching ErrSkip mean the trial cannot be made here;
// other errors are infrastructure problems (the bench, a hung tool) and say which.
func Run(ctx context.Context, b bench.Bench, l bench.Line, c Case) (*Result, error) {
	if err := Usable(c.Profile, b.Kind()); err != nil {
		return nil, err
	}
	argv, err := c.Profile.Command(c.Action, Vars(l, c.Value, c.Bias))
	if errors.Is(err, profile.ErrUnsupported) {
		return nil, &SkipError{Reason: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	act := c.Profile.Actions[c.Action]
	if c.Ending != vocab.Exit && !act.Holds {
		return nil, &SkipError{Reason: fmt.Sprintf("%s %s ends by itself; it cannot be ended by %s", c.Profile.Name, c.Action, c.Ending)}
	}
	if c.Ending == vocab.Exit && act.Holds {
		return nil, &SkipError{Reason: fmt.Sprintf("%s %s holds until signalled; it does not end by itself", c.Profile.Name, c.Action)}
	}
	if !c.AsLeft {
		if err := b.Prepare(l, c.Pre); err != nil {
			return nil, err
		}
	}
	res := &Result{Case: c, Argv: argv}
	if res.Before, err = b.Observe(l); err != nil {
		return res, err
	}
	spec := runner.Spec{Argv: argv, Ending: c.Ending, Ready: act.Ready, Deadline: Deadline, WhileHeld: c.WhileHeld}
	if c.Ending == vocab.ParentDeath {
		// gpiohil is the intermediate parent when it is at hand: smaller than a test binary
		// running the suites, it starts faster.
		if self := profile.Self(); filepath.IsAbs(self) {
			spec.Parent = self
		}
	}
	// The line's line-info events while the tool runs: they say when a holding tool holds the
	// line (it is ended only then, not after a guess of a settle time), and how the line was
	// given back. Without a watch (a kernel older than 5.7) there is neither: the settle
	// time bounds the wait, and the released fields stay unseen.
	// A tool that writes the registers itself never requests the line: its Ready text is all
	// there is to wait for.
	w, werr := bench.WatchLine(l)
	if werr == nil && act.Holds && c.Profile.Access != profile.AccessRegisters {
		spec.Held = w.Held()
	}
	var rec *Recording
	if c.Timeline {
		rec = Record(b, l, res.Before, c.Emulated)
		defer rec.Abandon()
		rec.Mark("tool started")
	}
	res.Run, err = runner.Run(ctx, spec)
	if rec != nil {
		rec.Mark("tool gone")
	}
	var werr2 error
	if w != nil {
		res.Changes, werr2 = w.Stop()
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", c, err)
	}
	if res.After, err = b.Observe(l); err != nil {
		return res, err
	}
	if rec != nil {
		if werr == nil && werr2 == nil {
			rec.LineInfo(res.Changes)
		} else {
			rec.Notes = append(rec.Notes, "line-info events: not watched")
		}
		res.Timeline = rec.Stop(res.After)
		res.TimelineNotes = rec.Notes
	}
	switch {
	case werr != nil:
		res.After.Can &^= vocab.See(vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
		res.After.Evidencef("line-info events: not watched (%v)", werr)
	case werr2 != nil:
		res.After.ReleasedDirection, res.After.ReleasedBias = vocab.DirectionUnknown, vocab.BiasUnknown
		res.After.Evidencef("line-info events: %v", werr2)
	default:
		Witness(&res.After, res.Changes)
	}
	return res, nil
}

// Witness records in o how the line was given back while a tool ran, from its line-info
// changes: the released direction and bias, or none when no request was released (a line
// still held, or never requested); unknown when a request was seen but not its release
// although the line is free: the watch missed it, and that is said, never taken as evidence.
func Witness(o *observe.Observation, cs bench.Changes) {
	var seen []string
	for _, c := range cs {
		seen = append(seen, c.String())
	}
	o.Evidencef("line-info events while the tool ran: %s", orNone(strings.Join(seen, ", ")))
	dir, bias, ok := cs.Release()
	switch {
	case ok && bias == vocab.BiasUnknown:
		// Released, but its request raised no event: one made by the kernel itself (a
		// /sys/class/gpio export) or before the watch began. The bias it had is not seen.
		o.ReleasedDirection, o.ReleasedBias = dir, bias
		o.Can &^= vocab.See(vocab.FieldReleasedBias)
		o.Evidencef("line-info events: no request event before the release (a sysfs export raises none): its bias is not visible")
	case ok:
		o.ReleasedDirection, o.ReleasedBias = dir, bias
	case o.Owner == vocab.Used || len(cs) == 0:
		o.ReleasedDirection, o.ReleasedBias = vocab.NotReleased, vocab.BiasUnknown
	default:
		o.ReleasedDirection, o.ReleasedBias = vocab.DirectionUnknown, vocab.BiasUnknown
		o.Evidencef("line-info events: the line was requested but no release was seen, yet it is %s: the watch missed an event", o.Owner)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
