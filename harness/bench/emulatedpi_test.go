package bench_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// pins is a piece of pinctrl-bcm2835's debugfs pins file as Debian's 6.12 kernel writes it.
const pins = `registered pins: 54
pin 14 (gpio14) 0:? function alt5 in lo; irq 0 (none)
pin 17 (gpio17) 0:? function gpio_out out hi; irq 0 (none)
pin 1 (gpio1) 0:? function gpio_in in lo; irq 0 (none)
pin 27 (gpio27) 0:? function gpio_in in lo; irq 0 (none)
`

func TestPinFunction(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pins")
	if err := os.WriteFile(f, []byte(pins), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{14: "alt5", 17: "gpio_out", 1: "gpio_in", 27: "gpio_in"} {
		if got, err := bench.PinFunction(f, n); err != nil || got != want {
			t.Errorf("pin %d: %q, %v; want %q", n, got, err, want)
		}
	}
	if _, err := bench.PinFunction(f, 2); err == nil {
		t.Error("pin 2 is not in the file, but PinFunction found it")
	}
}

// pinconf is a piece of pinctrl-bcm2835's debugfs pinconf-pins file of a BCM2711 (the emulated
// Pi 4, Debian's 6.12 kernel).
const pinconf = `Pin config settings per pin
Format: pin (name): configs
pin 1 (gpio1): input bias pull up (50000 ohms)
pin 17 (gpio17): input bias disabled
pin 22 (gpio22): input bias pull down (50000 ohms)
pin 27 (gpio27): 
`

func TestPinPull(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pinconf-pins")
	if err := os.WriteFile(f, []byte(pinconf), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]vocab.Pull{1: vocab.PullUp, 17: vocab.PullNone, 22: vocab.PullDown} {
		if got, text, err := bench.PinPull(f, n); err != nil || got != want || !strings.Contains(text, "bias") {
			t.Errorf("pin %d: %q (%q), %v; want %q", n, got, text, err, want)
		}
	}
	// A pin the file shows without a bias, or does not show, is an error, never "no pull".
	for _, n := range []int{27, 2} {
		if got, _, err := bench.PinPull(f, n); err == nil || got != vocab.PullUnknown {
			t.Errorf("pin %d: %q, %v; want an error and an unknown pull", n, got, err)
		}
	}
}

func TestPiAllowed(t *testing.T) {
	var allowed []int
	for n := 0; n < 54; n++ {
		if ok, why := bench.PiAllowed(n); ok {
			allowed = append(allowed, n)
		} else if why == "" {
			t.Errorf("GPIO %d refused without a reason", n)
		}
	}
	want := []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27}
	if len(allowed) != len(want) {
		t.Fatalf("allowed %v, want %v", allowed, want)
	}
	for i := range want {
		if allowed[i] != want[i] {
			t.Fatalf("allowed %v, want %v", allowed, want)
		}
	}
}
