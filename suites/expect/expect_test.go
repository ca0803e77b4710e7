package expect

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

var (
	sim        = observe.Platform{Driver: "gpio-sim", Bench: "gpio-sim"}
	piPersistN = observe.Platform{Driver: "pinctrl-bcm2835", Persist: "N"}
	piPersistY = observe.Platform{Driver: "pinctrl-bcm2835", Persist: "Y"}
)

func rules(t *testing.T) *Rules {
	t.Helper()
	r, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFor(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct {
		name string
		c    Case
		p    observe.Platform
		want string
	}{
		{"gpio-sim: released output returns to the pull the bias set",
			Case{"gpiohil-drive", vocab.SetOutput, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, sim,
			"direction=input level=1 drive=pulled pull=pull-up owner=free"},
		{"gpio-sim: bias disabled keeps the simulated pull",
			Case{"libgpiod-v1", vocab.Hold, vocab.SIGKILL, 1, vocab.BiasDisabled, vocab.PullDown}, sim,
			"direction=input level=0 drive=pulled pull=pull-down owner=free"},
		{"gpio-sim: a sysfs export outlives its writer",
			Case{"sysfs", vocab.SetOutput, vocab.Exit, 1, vocab.BiasAsIs, vocab.PullDown}, sim,
			"direction=output level=1 drive=driven owner=used consumer=sysfs"},
		{"bcm2835 persist off: released output resets to input",
			Case{"gpiohil-drive", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistN,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{"bcm2835 persist on: released output keeps driving",
			Case{"gpiohil-drive", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free"},
		{"bcm2835 persist on: cleanup still means input without pull",
			Case{"gpiohil-drive", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, observe.Platform{Driver: "pinctrl-bcm2835", Persist: vocab.ParsePersist("1")},
			"direction=input level=unknown drive=floating pull=none owner=free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := r.For(tc.c, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if e.String() != tc.want {
				t.Errorf("got  %s\nwant %s", e, tc.want)
			}
		})
	}
}

func TestForUnknown(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct {
		c    Case
		p    observe.Platform
		want string
	}{
		{Case{Tool: "mytool", Action: vocab.SetOutput, Ending: vocab.Exit}, sim, "does not say what mytool set-output leaves behind when ended by exit"},
		{Case{Tool: "rpi-gpio", Action: vocab.SetOutput, Ending: vocab.Exit}, sim, "platform gpio-sim does not say what it does with a line unmanaged-output"},
		{Case{Tool: "gpiohil-drive", Action: vocab.SetOutput, Ending: vocab.SIGKILL}, sim, "ended by sigkill"},
		{Case{Tool: "gpiohil-drive", Action: vocab.SetOutput, Ending: vocab.Exit}, observe.Platform{Driver: "pinctrl-rp1"}, `no platform for driver "pinctrl-rp1"`},
		{Case{Tool: "gpiohil-drive", Action: vocab.SetOutput, Ending: vocab.Exit}, observe.Platform{Driver: "pinctrl-bcm2835"}, `persist_gpio_outputs ""`},
	} {
		_, err := r.For(tc.c, tc.p)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("For(%+v) err = %v, want ErrUnknown and %q", tc.c, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	e := Expectation{Facts: observe.Facts{Direction: vocab.Input, Level: vocab.High, Pull: vocab.PullUp, Owner: vocab.Free},
		Fields: []vocab.Field{vocab.FieldDirection, vocab.FieldLevel, vocab.FieldPull, vocab.FieldOwner}}
	o := observe.New("c", "l", 0, vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldOwner), observe.Platform{})
	o.Direction, o.Level, o.Owner = vocab.Output, vocab.High, vocab.Free
	mis, unchecked := e.Check(o)
	if len(mis) != 1 || mis[0] != "direction: got output, want input" {
		t.Errorf("mismatches = %q", mis)
	}
	if len(unchecked) != 1 || unchecked[0] != vocab.FieldPull {
		t.Errorf("unchecked = %q, want pull (this bench cannot see it)", unchecked)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"tools: {t: {set-output: {exit: kept}}}\n", `x.yaml:1: tool t action set-output ending exit`},
		{"tools: {t: {set-output: {exit: kept}}}\n", `unknown outcome "kept"`},
		{"tools: {t: {set-output: {later: released-output}}}\n", `unknown ending "later"`},
		{"tools: {t: {set-output: {SIGTERM: released-output}}}\n", `unknown ending "SIGTERM"; want exit, sigint, sigterm, sigkill or parent-death`},
		{"tools: {t: {set-outptu: {exit: released-output}}}\n", `x.yaml:1: tool t: unknown action "set-outptu"`},
		{"platforms:\n- name: p\n  match: {driver: d}\n  outcomes:\n    released-output: {colour: red}\n", `x.yaml:5: platform p outcome released-output: unknown field "colour"`},
		{"platforms:\n- name: p\n  match: {driver: d}\n  outcomes:\n    released-output: {direction: sideways}\n", `field direction cannot be "sideways"`},
		{"platforms:\n- name: p\n  match: {driver: d, board: x}\n", `unknown match key "board"`},
		{"tool: {}\n", "field tool not found"},
	} {
		_, err := Parse("x.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestPiTools(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct {
		c    Case
		p    observe.Platform
		want string
	}{
		{Case{"rpi-gpio", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistN,
			"direction=output level=1 drive=driven owner=free"},
		{Case{"rpi-gpio", vocab.Cleanup, vocab.Exit, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{Case{"gpiozero-lgpio", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasAsIs, vocab.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free"},
		{Case{"gpiozero-lgpio", vocab.Hold, vocab.SIGINT, 1, vocab.BiasAsIs, vocab.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{Case{"rpi-lgpio", vocab.SetOutput, vocab.Exit, 1, vocab.BiasDisabled, vocab.PullDown}, observe.Platform{Driver: "pinctrl-rp1", Persist: "N"},
			"direction=input level=unknown drive=floating pull=none owner=free"},
	} {
		e, err := r.For(tc.c, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if e.String() != tc.want {
			t.Errorf("%+v on %+v:\n got  %s\nwant %s", tc.c, tc.p, e, tc.want)
		}
	}
}
