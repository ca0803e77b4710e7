package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Lines of a real trace file (gpiohil's VM kernel, gpioset of libgpiod 1.6 on line 512).
func TestParseGPIOTrace(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
		at   time.Duration
		dir  vocab.Direction
		lvl  vocab.Level
		what string
	}{
		{"         gpioset-97      [000] .....    12.633447: gpio_value: 512 set 1", true, 12633447 * time.Microsecond, "", vocab.High, "gpio_value set 1"},
		{"         gpioset-97      [000] .....    12.633450: gpio_direction: 512 out (0)", true, 12633450 * time.Microsecond, vocab.Output, "", "gpio_direction out (0)"},
		{"  gpiohil-12 [001] d..1.  3.000001: gpio_direction: 512  in (0)", true, 3000001 * time.Microsecond, vocab.Input, vocab.LevelUnknown, "gpio_direction in (0)"},
		{"  gpiohil-12 [001] .....  3.000001: gpio_direction: 512 out (-22)", true, 3000001 * time.Microsecond, "", "", "gpio_direction out (-22)"},
		{"  gpiohil-12 [001] .....  3.000001: gpio_value: 512 get 1", false, 0, "", "", ""},
		{"  gpiohil-12 [001] .....  3.000001: gpio_value: 513 set 1", false, 0, "", "", ""},
		{"# tracer: nop", false, 0, "", "", ""},
	} {
		e, ok, err := ParseGPIOTrace(tc.line, 512)
		if err != nil || ok != tc.ok {
			t.Errorf("%q: ok %v, err %v; want ok %v", tc.line, ok, err, tc.ok)
			continue
		}
		if ok && (e.At != tc.at || e.Direction != tc.dir || e.Level+e.Latch != tc.lvl || e.What != tc.what) {
			t.Errorf("%q: %+v; want at %v, direction %q, level %q, what %q", tc.line, e, tc.at, tc.dir, tc.lvl, tc.what)
		}
	}
	if _, _, err := ParseGPIOTrace("  x-1 [000] ..... 3.1: gpio_value: 512 set 7", 512); err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Errorf("a gpio event that does not parse: err %v", err)
	}
}
