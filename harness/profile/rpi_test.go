package profile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The Raspberry Pi tools are profiles for the rpi bench, and those Debian ships for the emulated
// Pi too (pigpio so that its skip there says why: no daemon); the register-level ones say so.
// Where they are missing, as on every machine but a Pi set up for them, they say so with what
// to install.
func TestPiProfiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kinds  []vocab.BenchKind
		access profile.Access
	}{
		{"rpi-gpio", []vocab.BenchKind{vocab.KindRPi, vocab.KindVMRPi3}, profile.AccessRegisters},
		{"gpiozero", []vocab.BenchKind{vocab.KindRPi, vocab.KindVMRPi3}, profile.AccessRegisters},
		{"pigpio", []vocab.BenchKind{vocab.KindRPi, vocab.KindVMRPi3}, profile.AccessRegisters},
		{"rpi-lgpio", []vocab.BenchKind{vocab.KindRPi}, profile.AccessKernel},
		{"gpiozero-lgpio", []vocab.BenchKind{vocab.KindRPi}, profile.AccessKernel},
	} {
		name := tc.name
		p := mustLookup(t, name)
		if !slices.Equal(p.BenchKinds, tc.kinds) {
			t.Errorf("%s: bench-kinds %v; want %v", name, p.BenchKinds, tc.kinds)
		}
		if p.Access != tc.access {
			t.Errorf("%s: access %s; want %s", name, p.Access, tc.access)
		}
		for _, a := range []vocab.Action{vocab.SetOutput, vocab.Cleanup, vocab.Hold, vocab.HoldCleanup} {
			if p.Actions[a] == nil {
				t.Errorf("%s: no %s action", name, a)
			}
		}
		ok, reason, err := p.Installed()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
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
		action  vocab.Action
		bias    vocab.Bias
		want    string // a substring of the rendered argv, joined by spaces
	}{
		{"pigpio", vocab.SetOutput, vocab.BiasAsIs, "pigs m 17 w w 17 1"},
		{"pigpio", vocab.SetOutput, vocab.BiasPullUp, "pigs m 17 w pud 17 u w 17 1"},
		{"pigpio", vocab.SetInput, vocab.BiasDisabled, "pigs m 17 r pud 17 o r 17"},
		{"rpi-gpio", vocab.SetOutput, vocab.BiasDisabled, "GPIO.setup(17, GPIO.OUT, initial=GPIO.HIGH)"},
		{"rpi-gpio", vocab.Cleanup, vocab.BiasDisabled, "GPIO.cleanup()"},
		{"rpi-gpio", vocab.SetInput, vocab.BiasPullDown, "GPIO.setup(17, GPIO.IN, pull_up_down=GPIO.PUD_DOWN)"},
		{"rpi-lgpio", vocab.SetOutput, vocab.BiasDisabled, `os.environ["RPI_LGPIO_CHIP"] = "gpiochip0".removeprefix("gpiochip")`},
		{"gpiozero-lgpio", vocab.SetOutput, vocab.BiasAsIs, "DigitalOutputDevice(17, initial_value=True)"},
		{"gpiozero-lgpio", vocab.SetInput, vocab.BiasDisabled, "DigitalInputDevice(17, pull_up=None, active_state=True)"},
		{"gpiozero", vocab.SetOutput, vocab.BiasDisabled, "Device.pin_factory = RPiGPIOFactory()"},
		{"gpiozero", vocab.Hold, vocab.BiasDisabled, "DigitalOutputDevice(17, initial_value=True)"},
		{"gpiozero", vocab.SetInput, vocab.BiasPullUp, "DigitalInputDevice(17, pull_up=True)"},
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
	for _, name := range []string{"rpi-gpio", "rpi-lgpio", "gpiozero-lgpio", "gpiozero"} {
		v.Bias = vocab.BiasPullUp
		if _, err := mustLookup(t, name).Command(vocab.SetOutput, v); err == nil {
			t.Errorf("%s set-output with a pull-up rendered; want ErrUnsupported", name)
		}
	}
}
