package profile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/profile"
)

// The Raspberry Pi-only tools are profiles for the rpi bench alone. Where they are missing, as
// on every machine but a Pi set up for them, they say so with what to install.
func TestPiProfiles(t *testing.T) {
	for _, name := range []string{"rpi-gpio", "rpi-lgpio", "gpiozero-lgpio", "pigpio"} {
		p := mustLookup(t, name)
		if !slices.Equal(p.BenchKinds, []string{"rpi"}) {
			t.Errorf("%s: bench-kinds %v; want [rpi]", name, p.BenchKinds)
		}
		for _, a := range []profile.ActionName{profile.SetOutput, profile.Cleanup, profile.Hold, profile.HoldCleanup} {
			if p.Actions[a] == nil {
				t.Errorf("%s: no %s action", name, a)
			}
		}
		ok, reason := p.Installed()
		t.Logf("%s: installed=%v %s", name, ok, reason)
		if !ok && (p.InstallHint == "" || !strings.HasSuffix(reason, "; "+p.InstallHint)) {
			t.Errorf("%s: not installed, reason %q; want it to end with the install hint", name, reason)
		}
	}
}

func TestPiProfileCommands(t *testing.T) {
	v := profile.Vars{Chip: "/dev/gpiochip0", Line: "GPIO17", Offset: 17, Value: 1, Self: "/opt/gpiohil"}
	for _, tc := range []struct {
		profile string
		action  profile.ActionName
		bias    profile.Bias
		want    string // a substring of the rendered argv, joined by spaces
	}{
		{"pigpio", profile.SetOutput, profile.AsIs, "pigs m 17 w w 17 1"},
		{"pigpio", profile.SetOutput, profile.PullUp, "pigs m 17 w pud 17 u w 17 1"},
		{"pigpio", profile.SetInput, profile.Disabled, "pigs m 17 r pud 17 o r 17"},
		{"rpi-gpio", profile.SetOutput, profile.Disabled, "GPIO.setup(17, GPIO.OUT, initial=GPIO.HIGH)"},
		{"rpi-gpio", profile.Cleanup, profile.Disabled, "GPIO.cleanup()"},
		{"rpi-gpio", profile.SetInput, profile.PullDown, "GPIO.setup(17, GPIO.IN, pull_up_down=GPIO.PUD_DOWN)"},
		{"rpi-lgpio", profile.SetOutput, profile.Disabled, `os.environ["RPI_LGPIO_CHIP"] = "gpiochip0".removeprefix("gpiochip")`},
		{"gpiozero-lgpio", profile.SetOutput, profile.AsIs, "DigitalOutputDevice(17, initial_value=True)"},
		{"gpiozero-lgpio", profile.SetInput, profile.Disabled, "DigitalInputDevice(17, pull_up=None, active_state=True)"},
	} {
		v.Bias = tc.bias
		argv, err := mustLookup(t, tc.profile).Command(tc.action, v)
		if err != nil {
			t.Errorf("%s %s: %v", tc.profile, tc.action, err)
			continue
		}
		if got := strings.Join(argv, " "); !strings.Contains(got, tc.want) {
			t.Errorf("%s %s bias %s:\n%s\nwant it to contain %q", tc.profile, tc.action, tc.bias, got, tc.want)
		}
	}
	// RPi.GPIO refuses a pull on an output; gpiozero cannot set one either.
	for _, name := range []string{"rpi-gpio", "rpi-lgpio", "gpiozero-lgpio"} {
		v.Bias = profile.PullUp
		if _, err := mustLookup(t, name).Command(profile.SetOutput, v); err == nil {
			t.Errorf("%s set-output with a pull-up rendered; want ErrUnsupported", name)
		}
	}
}
