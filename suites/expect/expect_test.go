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
			"direction=input level=1 drive=pulled pull=pull-up owner=free released-direction=output released-bias=pull-up"},
		{"gpio-sim: bias disabled keeps the simulated pull",
			Case{"libgpiod-v1", vocab.Hold, vocab.SIGKILL, 1, vocab.BiasDisabled, vocab.PullDown}, sim,
			"direction=input level=0 drive=pulled pull=pull-down owner=free released-direction=output released-bias=disabled"},
		{"gpio-sim: a sysfs export outlives its writer",
			Case{"sysfs", vocab.SetOutput, vocab.Exit, 1, vocab.BiasAsIs, vocab.PullDown}, sim,
			"direction=output level=1 drive=driven owner=used consumer=sysfs released-direction=none"},
		{"bcm2835 persist off: released output resets to input",
			Case{"gpiohil-drive", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistN,
			"direction=input level=unknown drive=floating pull=none owner=free released-direction=output released-bias=disabled"},
		{"bcm2835 persist on: released output keeps driving",
			Case{"gpiohil-drive", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free released-direction=output released-bias=disabled"},
		{"bcm2835 persist on: cleanup still means input without pull",
			Case{"gpiohil-drive", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, observe.Platform{Driver: "pinctrl-bcm2835", Persist: vocab.ParsePersist("1")},
			"direction=input level=unknown drive=floating pull=none owner=free released-direction=input released-bias=disabled"},
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
			"direction=output level=1 drive=driven owner=free released-direction=none"},
		{Case{"rpi-gpio", vocab.Cleanup, vocab.Exit, 1, vocab.BiasDisabled, vocab.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free released-direction=none"},
		{Case{"gpiozero-lgpio", vocab.Hold, vocab.SIGTERM, 1, vocab.BiasAsIs, vocab.PullDown}, piPersistY,
			"direction=output level=1 drive=driven owner=free released-direction=output released-bias=as-is"},
		{Case{"gpiozero-lgpio", vocab.Hold, vocab.SIGINT, 1, vocab.BiasAsIs, vocab.PullDown}, piPersistY,
			"direction=input level=unknown drive=floating pull=none owner=free released-direction=input released-bias=disabled"},
		{Case{"rpi-lgpio", vocab.SetOutput, vocab.Exit, 1, vocab.BiasDisabled, vocab.PullDown}, observe.Platform{Driver: "pinctrl-rp1", Persist: "N"},
			"direction=input level=unknown drive=floating pull=none owner=free released-direction=output released-bias=disabled"},
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

// Which outcomes a bench could not tell apart: without the witness of how the line was
// released, gpio-sim shows a cleanup and no cleanup alike; with it they differ, except where
// the tool's own request already had the cleanup's bias.
func TestIndistinct(t *testing.T) {
	r := rules(t)
	simSees := vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner)
	witness := simSees | vocab.See(vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
	piSees := vocab.See(vocab.FieldDirection, vocab.FieldOwner, vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
	for _, tc := range []struct {
		name string
		c    Case
		p    observe.Platform
		can  vocab.Capabilities
		want string
	}{
		{"gpio-sim without the witness: a cleanup looks like none",
			Case{"python3-libgpiod", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, sim, simSees, "released-input released-input-no-bias"},
		{"gpio-sim with the witness: a missing cleanup shows",
			Case{"python3-libgpiod", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, sim, witness, ""},
		{"gpio-sim with the witness: an input asked with bias disabled is a cleanup already",
			Case{"python3-libgpiod", vocab.SetInput, vocab.Exit, 1, vocab.BiasDisabled, vocab.PullDown}, sim, witness, "released-input-no-bias"},
		{"persist off: without pulls, an input released with its pull-up looks like one without",
			Case{"gpiohil-drive", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, piPersistN, vocab.See(vocab.FieldDirection, vocab.FieldOwner), "released-output released-input unmanaged-input unmanaged-input-no-pull"},
		{"persist off with the witness",
			Case{"gpiohil-drive", vocab.Cleanup, vocab.Exit, 1, vocab.BiasPullUp, vocab.PullDown}, piPersistN, piSees, ""},
		{"a sysfs export is told from a release by its owner",
			Case{"sysfs", vocab.SetOutput, vocab.Exit, 1, vocab.BiasAsIs, vocab.PullDown}, sim, simSees, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alike, err := r.Indistinct(tc.c, tc.p, tc.can)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(vocab.Strings(alike), " "); got != tc.want {
				t.Errorf("indistinct from %v: %q, want %q", tc.c, got, tc.want)
			}
		})
	}
	if _, err := r.Indistinct(Case{Tool: "mystery", Action: vocab.SetOutput, Ending: vocab.Exit}, sim, simSees); !errors.Is(err, ErrUnknown) {
		t.Errorf("an unknown tool: %v, want ErrUnknown", err)
	}
}
