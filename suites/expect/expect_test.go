package expect

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
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
			Case{"gpiohil-drive", "set-output", "exit", 1, "pull-up", observe.PullDown}, sim,
			"direction=input level=1 drive=pulled pull=pull-up owner=free"},
		{"gpio-sim: bias disabled keeps the simulated pull",
			Case{"libgpiod-v1", "hold", "sigkill", 1, "disabled", observe.PullDown}, sim,
			"direction=input level=0 drive=pulled pull=pull-down owner=free"},
		{"gpio-sim: a sysfs export outlives its writer",
			Case{"sysfs", "set-output", "exit", 1, "as-is", observe.PullDown}, sim,
			"direction=output level=1 drive=driven owner=used consumer=sysfs"},
		{"bcm2835 persist off: released output resets to input",
			Case{"gpiohil-drive", "hold", "sigterm", 1, "disabled", observe.PullDown}, piPersistN,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{"bcm2835 persist on: released output keeps driving",
			Case{"gpiohil-drive", "hold", "sigterm", 1, "disabled", observe.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free"},
		{"bcm2835 persist on: cleanup still means input without pull",
			Case{"gpiohil-drive", "cleanup", "exit", 1, "pull-up", observe.PullDown}, observe.Platform{Driver: "pinctrl-bcm2835", Persist: "1"},
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
		{Case{Tool: "mytool", Action: "set-output", Ending: "exit"}, sim, "does not say what mytool set-output leaves behind when ended by exit"},
		{Case{Tool: "rpi-gpio", Action: "set-output", Ending: "exit"}, sim, "platform gpio-sim does not say what it does with a line unmanaged-output"},
		{Case{Tool: "gpiohil-drive", Action: "set-output", Ending: "sigkill"}, sim, "ended by sigkill"},
		{Case{Tool: "gpiohil-drive", Action: "set-output", Ending: "exit"}, observe.Platform{Driver: "pinctrl-rp1"}, `no platform for driver "pinctrl-rp1"`},
		{Case{Tool: "gpiohil-drive", Action: "set-output", Ending: "exit"}, observe.Platform{Driver: "pinctrl-bcm2835"}, `persist_gpio_outputs ""`},
	} {
		_, err := r.For(tc.c, tc.p)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("For(%+v) err = %v, want ErrUnknown and %q", tc.c, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	e := Expectation{Fields: map[string]string{"direction": "input", "level": "1", "pull": "pull-up", "owner": "free"}}
	o := observe.New("c", "l", 0, []string{observe.CanDirection, observe.CanLevel, observe.CanOwner}, observe.Platform{})
	o.Direction, o.Level, o.Owner = "output", "1", "free"
	mis, unchecked := e.Check(o)
	if len(mis) != 1 || mis[0] != "direction: got output, want input" {
		t.Errorf("mismatches = %q", mis)
	}
	if len(unchecked) != 1 || unchecked[0] != "pull" {
		t.Errorf("unchecked = %q, want pull (this bench cannot see it)", unchecked)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"tools: {t: {set-output: {exit: kept}}}\n", `x.yaml:1: tool t action set-output ending exit`},
		{"tools: {t: {set-output: {exit: kept}}}\n", `unknown outcome "kept"`},
		{"tools: {t: {set-output: {later: released-output}}}\n", `unknown ending "later"`},
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
		{Case{"rpi-gpio", "hold", "sigterm", 1, "disabled", observe.PullDown}, piPersistN,
			"direction=output level=1 drive=driven owner=free"},
		{Case{"rpi-gpio", "cleanup", "exit", 1, "disabled", observe.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{Case{"gpiozero-lgpio", "hold", "sigterm", 1, "as-is", observe.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free"},
		{Case{"gpiozero-lgpio", "hold", "sigint", 1, "as-is", observe.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free"},
		{Case{"rpi-lgpio", "set-output", "exit", 1, "disabled", observe.PullDown}, observe.Platform{Driver: "pinctrl-rp1", Persist: "N"},
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
