package bench

import (
	"fmt"

	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Driver is what a bench's chip driver does to a line by itself, where no event of the
// kernel's says so: a timeline adds it at the line-info change it follows. These are the
// drivers' known release semantics (docs/timeline.md), the same facts the expectations rest
// on; each is checked against the bench's own observation after the tool is gone.
type Driver interface {
	// AtRelease is the line's state right after a request of it was released, with pull p the
	// line's pull then (vocab.PullUnknown when the bench cannot see it); ok false when the driver
	// leaves the line as it was.
	AtRelease(p vocab.Pull) (e timeline.Event, ok bool)
	// AtInput is an input's state with pull p.
	AtInput(p vocab.Pull) timeline.Event
	// PullAfter is the line's pull after a request with bias b, when it had pull p.
	PullAfter(p vocab.Pull, b vocab.Bias) vocab.Pull
}

// pulledBy is an undriven line's state with pull p: pulled to its level, floating without
// one, unknown when p is not known.
func pulledBy(p vocab.Pull, what string) timeline.Event {
	e := timeline.Event{Source: timeline.Driver, What: what, Direction: vocab.Input}
	switch p {
	case vocab.PullUp, vocab.PullDown:
		e.Drive, e.Level = vocab.Pulled, p.Level()
	case vocab.PullNone:
		e.Drive, e.Level = vocab.Floating, vocab.LevelUnknown
	default:
		e.Drive, e.Level = vocab.DriveUnknown, vocab.LevelUnknown
	}
	return e
}

// biasPull is the pull a bias request sets on a driver that has "no pull".
func biasPull(p vocab.Pull, b vocab.Bias) vocab.Pull {
	switch b {
	case vocab.BiasPullUp:
		return vocab.PullUp
	case vocab.BiasPullDown:
		return vocab.PullDown
	case vocab.BiasDisabled:
		return vocab.PullNone
	}
	return p
}

// AtRelease implements Driver: gpio-sim sets a released line's value to its simulated pull
// (gpio_sim_free); the line reads as an undriven one.
func (b *GPIOSim) AtRelease(p vocab.Pull) (timeline.Event, bool) {
	e := pulledBy(p, fmt.Sprintf("gpio-sim's free: the value to the simulated pull (%s)", p))
	if p != vocab.PullUnknown {
		e.Drive, e.Level = vocab.Pulled, simLevel(p)
	}
	return e, true
}

// AtInput implements Driver: a gpio-sim input reads its simulated pull.
func (b *GPIOSim) AtInput(p vocab.Pull) timeline.Event {
	e := pulledBy(p, fmt.Sprintf("gpio-sim: an input reads the simulated pull (%s)", p))
	if p != vocab.PullUnknown {
		e.Drive, e.Level = vocab.Pulled, simLevel(p)
	}
	return e
}

// PullAfter implements Driver: pull-up and pull-down overwrite the simulated pull; disabled
// and as-is leave it (gpio-sim cannot represent "no pull").
func (b *GPIOSim) PullAfter(p vocab.Pull, bias vocab.Bias) vocab.Pull {
	if bias == vocab.BiasDisabled {
		return p
	}
	return biasPull(p, bias)
}

// PinctrlRules is the release semantics of the Raspberry Pi's pin controllers (pinctrl-bcm2835,
// and pinctrl-rp1 on a Pi 5), which keep a pin's pull registers across every request: with
// persist_gpio_outputs off a released GPIO becomes an input (bcm2835_pmx_free), which its
// pull then sets; with it on the pin is left as it was. Persist unset (a kernel without the
// parameter) is taken as off, mainline's behaviour before it existed.
type PinctrlRules struct {
	Label   string // the chip's label, for the words
	Persist vocab.Persist
}

// AtRelease implements Driver.
func (d PinctrlRules) AtRelease(p vocab.Pull) (timeline.Event, bool) {
	if d.Persist == vocab.PersistOn {
		return timeline.Event{}, false
	}
	return pulledBy(p, fmt.Sprintf("%s's free with persist_gpio_outputs off: the pin to input (pull %s)", d.Label, p)), true
}

// AtInput implements Driver.
func (d PinctrlRules) AtInput(p vocab.Pull) timeline.Event {
	return pulledBy(p, fmt.Sprintf("input, pull %s", p))
}

// PullAfter implements Driver: every bias request sets the pull registers; as-is leaves them.
func (d PinctrlRules) PullAfter(p vocab.Pull, bias vocab.Bias) vocab.Pull { return biasPull(p, bias) }

func (b *EmulatedPi) rules() PinctrlRules {
	return PinctrlRules{Label: b.label, Persist: b.plat.Persist}
}

// AtRelease implements Driver with pinctrl-bcm2835's rules.
func (b *EmulatedPi) AtRelease(p vocab.Pull) (timeline.Event, bool) { return b.rules().AtRelease(p) }

// AtInput implements Driver.
func (b *EmulatedPi) AtInput(p vocab.Pull) timeline.Event { return b.rules().AtInput(p) }

// PullAfter implements Driver.
func (b *EmulatedPi) PullAfter(p vocab.Pull, bias vocab.Bias) vocab.Pull {
	return b.rules().PullAfter(p, bias)
}
