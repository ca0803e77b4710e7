package bench

import (
	"errors"
	"fmt"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// requestOnce requests line l of chip c with opts and releases it at once, naming the holder
// when the line is busy. Every bench's Prepare and Restore go through it.
func requestOnce(c *gpiocdev.Chip, l Line, opts ...gpiocdev.LineReqOption) error {
	req, err := c.RequestLine(l.Offset, append(opts, gpiocdev.WithConsumer(Consumer))...)
	if errors.Is(err, unix.EBUSY) {
		be := &BusyError{Line: l}
		if info, ierr := c.LineInfo(l.Offset); ierr == nil {
			be.Consumer = info.Consumer
		}
		return be
	}
	if err != nil {
		return fmt.Errorf("request line %s: %w", l, err)
	}
	return req.Close()
}

// stateOptions are the request options that put a line in state s.
func stateOptions(l Line, s State) ([]gpiocdev.LineReqOption, error) {
	bias, err := BiasOption(s.Bias)
	if err != nil {
		return nil, err
	}
	switch s.Direction {
	case vocab.Input:
		return []gpiocdev.LineReqOption{gpiocdev.AsInput, bias}, nil
	case vocab.Output:
		return []gpiocdev.LineReqOption{gpiocdev.AsOutput(s.Value), bias}, nil
	}
	return nil, fmt.Errorf("prepare %s: direction %q: want input or output", l, s.Direction)
}

// restoreOnce requests l as an input with bias disabled and releases it; a line a tool left
// exported in /sys/class/gpio is unexported first.
func restoreOnce(c *gpiocdev.Chip, l Line) error {
	err := requestOnce(c, l, gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	var be *BusyError
	if errors.As(err, &be) && be.Consumer == SysfsConsumer {
		if uerr := unexport(l); uerr != nil {
			return uerr
		}
		err = requestOnce(c, l, gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	}
	return err
}

// RecordOwner fills o's owner from line info, which is accurate at all times for lines
// requested through the character device or exported in sysfs; freeNote, when set, qualifies
// what "free" means on this bench.
func RecordOwner(o *observe.Observation, info gpiocdev.LineInfo, freeNote string) {
	if info.Used {
		o.Owner, o.Consumer = vocab.Used, info.Consumer
		o.Evidencef("line info: used by %q", info.Consumer)
		return
	}
	o.Owner = vocab.Free
	if freeNote != "" {
		o.Evidencef("line info: free (%s)", freeNote)
	} else {
		o.Evidencef("line info: free")
	}
}
