package trial

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// StopGrace is how long the first tool of a handover has after SIGTERM before it is SIGKILLed,
// as systemd does after TimeoutStopSec (90 s by default; the tools here end at once or never).
const StopGrace = 2 * time.Second

// Handover is a service restart: the first tool (Case.Profile's hold action) holds the line at
// Case.Value; it is stopped the way systemd stops a service, SIGTERM and SIGKILL after
// StopGrace; the next tool (Next's hold action, the same tool or another) is started at once
// and requests the line at the same value. What did the line do in between?
type Handover struct {
	Case Case // Action hold, Ending sigterm; Timeline is implied
	Next *profile.Profile
}

// HandoverResult is what a handover found.
type HandoverResult struct {
	First, Next *runner.Result
	Before      observe.Observation // after preparing, before the first tool ran
	During      observe.Observation // while the next tool holds the line
	Timeline    *timeline.Timeline  // from the first tool's start to During
	Notes       []string            // what a source of the timeline could not give
}

// RunHandover makes a handover on line l. Errors matching ErrSkip mean it cannot be made here;
// others are infrastructure problems. The next tool is ended (SIGTERM) once observed: the
// caller restores the line.
func RunHandover(ctx context.Context, b bench.Bench, l bench.Line, h Handover) (*HandoverResult, error) {
	c := h.Case
	first, err := holdSpec(b, l, c.Profile, c)
	if err != nil {
		return nil, err
	}
	next, err := holdSpec(b, l, h.Next, c)
	if err != nil {
		return nil, err
	}
	if err := b.Prepare(l, c.Pre); err != nil {
		return nil, err
	}
	res := &HandoverResult{}
	if res.Before, err = b.Observe(l); err != nil {
		return res, err
	}
	rec := Record(b, l, res.Before, c.Emulated)
	defer rec.Abandon()

	// The first tool: held, then stopped.
	w, err := bench.WatchLine(l)
	if err != nil {
		return res, fmt.Errorf("handover needs the line's line-info events: %w", err)
	}
	if c.Profile.Access != profile.AccessRegisters { // else its Ready text is all there is
		first.Held = w.Held()
	}
	first.Ending, first.Grace = vocab.SIGTERM, StopGrace
	rec.Mark("first tool started")
	res.First, err = runner.Run(ctx, first)
	rec.Mark("first tool gone")
	cs, werr := w.Stop()
	if err != nil {
		return res, fmt.Errorf("handover, first tool: %w", err)
	}
	if werr != nil {
		return res, fmt.Errorf("handover, first tool: %w", werr)
	}
	rec.LineInfo(cs)

	// The next tool, at once.
	if w, err = bench.WatchLine(l); err != nil {
		return res, fmt.Errorf("handover needs the line's line-info events: %w", err)
	}
	var until time.Duration
	var oerr error
	if h.Next.Access != profile.AccessRegisters {
		next.Held = w.Held()
	}
	next.Ending = vocab.SIGTERM
	next.WhileHeld = func() {
		res.During, oerr = b.Observe(l)
		until = rec.Now()
	}
	rec.Mark("next tool started")
	res.Next, err = runner.Run(ctx, next)
	cs, werr = w.Stop()
	if err != nil {
		return res, fmt.Errorf("handover, next tool: %w", err)
	}
	if oerr != nil {
		return res, oerr
	}
	if werr != nil {
		return res, fmt.Errorf("handover, next tool: %w", werr)
	}
	var held bench.Changes
	for _, ch := range cs {
		if ch.At-rec.zero <= until {
			held = append(held, ch)
		}
	}
	rec.LineInfo(held)
	res.Timeline = rec.StopAt(res.During, until)
	res.Notes = rec.Notes
	return res, nil
}

// holdSpec is the runner's spec for p's hold action on l at c's value and bias, or why it cannot
// run here.
func holdSpec(b bench.Bench, l bench.Line, p *profile.Profile, c Case) (runner.Spec, error) {
	if err := Usable(p, b.Kind()); err != nil {
		return runner.Spec{}, err
	}
	act := p.Actions[vocab.Hold]
	if act == nil {
		return runner.Spec{}, &SkipError{Reason: fmt.Sprintf("profile %s has no hold action: it cannot hold a line for a handover", p.Name)}
	}
	argv, err := p.Command(vocab.Hold, Vars(l, c.Value, c.Bias))
	if err != nil {
		if errors.Is(err, profile.ErrUnsupported) {
			return runner.Spec{}, &SkipError{Reason: err.Error()}
		}
		return runner.Spec{}, err
	}
	return runner.Spec{Argv: argv, Ready: act.Ready, Deadline: Deadline}, nil
}
