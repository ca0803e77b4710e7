// Package smoke is the VM lane's own check that GPIO works end to end: a gpio-sim chip
// appears under its label, a line found by name can be driven high and low through the
// character device, and the simulator sees each level.
//
// `gpiohil smoke` (and `make run` until the suites exist) boots the VM with Bank and runs
// Check inside it.
package smoke

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/sim"
)

// Bank is the chip the smoke check asks the VM for.
var Bank = sim.Bank{Label: "gpiohil-smoke", Lines: []string{"smoke-0", "smoke-1", "smoke-2", "smoke-3"}}

// Check runs inside a VM started with Bank and reports each step to w.
func Check(w io.Writer) error {
	c, err := sim.ChipFromEnv(Bank.Label)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "chip %s (%s) has %d lines\n", c.Label, c.Dev, len(c.Lines))
	name := Bank.Lines[1]
	chip, offset, err := gpiocdev.FindLine(name)
	if err != nil {
		return fmt.Errorf("smoke: find line %s: %w", name, err)
	}
	if want := c.Name; chip != want {
		return fmt.Errorf("smoke: line %s is on %s, want %s", name, chip, want)
	}
	l, err := gpiocdev.RequestLine(chip, offset, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("gpiohil-smoke"))
	if err != nil {
		return fmt.Errorf("smoke: request %s as output: %w", name, err)
	}
	defer l.Close()
	for _, v := range []int{1, 0, 1} {
		if err := l.SetValue(v); err != nil {
			return fmt.Errorf("smoke: set %s to %d: %w", name, v, err)
		}
		got, err := os.ReadFile(c.Attr(offset, "value"))
		if err != nil {
			return fmt.Errorf("smoke: read the simulator's view of %s: %w", name, err)
		}
		if s := strings.TrimSpace(string(got)); s != fmt.Sprint(v) {
			return fmt.Errorf("smoke: drove %s to %d but the simulator sees %s", name, v, s)
		}
		fmt.Fprintf(w, "line %s (offset %d) driven %d, simulator sees %d\n", name, offset, v, v)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("smoke: release %s: %w", name, err)
	}
	fmt.Fprintln(w, "smoke check passed")
	return nil
}
