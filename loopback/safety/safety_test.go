package safety_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/loopback/safety"
)

// Samples in the formats of Linux 6.12's drivers/pinctrl/core.c (pins), pinmux.c
// (pinmux-pins) and pinctrl-bcm2835.c (the per-pin function).
const pinsSample = `registered pins: 58
pin 2 (gpio2) 2:pinctrl-bcm2711 function alt0 in hi; irq 0 (none)
pin 14 (gpio14) 14:pinctrl-bcm2711 function alt5 in hi; irq 0 (none)
pin 17 (gpio17) 17:pinctrl-bcm2711 function gpio_in in lo; irq 0 (none)
pin 18 (gpio18) 18:pinctrl-bcm2711 function gpio_out in hi; irq 0 (none)
`

const pinmuxSample = `Pinmux settings per pin
Format: pin (name): mux_owner gpio_owner hog?
pin 2 (gpio2): fe804000.i2c (GPIO UNCLAIMED) function i2c1 group i2c1_gpio2
pin 14 (gpio14): fe215040.serial (GPIO UNCLAIMED) function uart1 group uart1_gpio14
pin 17 (gpio17): (MUX UNCLAIMED) pinctrl-bcm2711:529
pin 18 (gpio18): (MUX UNCLAIMED) (GPIO UNCLAIMED)
`

func TestParsePins(t *testing.T) {
	got := safety.ParsePins(strings.NewReader(pinsSample))
	want := map[int]string{2: "alt0", 14: "alt5", 17: "gpio_in", 18: "gpio_out"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParsePins = %v; want %v", got, want)
	}
	mux := safety.ParsePinmuxPins(strings.NewReader(pinmuxSample))
	if mux[2].Owner != "fe804000.i2c" || mux[2].Group != "i2c1" || mux[14].Owner != "fe215040.serial" {
		t.Errorf("ParsePinmuxPins = %+v", mux)
	}
	if _, ok := mux[17]; ok {
		t.Errorf("pin 17 claimed by nothing but gpiolib: %+v", mux[17])
	}
	strict := safety.ParsePinmuxPins(strings.NewReader("pin 4 (gpio4): device 1f000d0000.spi function spi0 group spi0_gpio4\npin 5 (gpio5): GPIO gpiochip0:5\npin 6 (gpio6): UNCLAIMED\n"))
	if strict[4].Owner != "1f000d0000.spi" || len(strict) != 1 {
		t.Errorf("strict ParsePinmuxPins = %+v", strict)
	}
}

func TestMuxAway(t *testing.T) {
	for _, tc := range []struct {
		m    safety.Mux
		want string
	}{
		{safety.Mux{Function: "gpio_in"}, ""},
		{safety.Mux{Function: "gpio_out"}, ""},
		{safety.Mux{Function: "alt0"}, "function alt0"},
		{safety.Mux{Function: "alt0", Owner: "fe804000.i2c", Group: "i2c1"}, "claimed by fe804000.i2c for i2c1"},
		{safety.Mux{Owner: "pinctrl", Group: "gpio_out"}, ""},
	} {
		if got := tc.m.Away(); got != tc.want {
			t.Errorf("%+v.Away() = %q; want %q", tc.m, got, tc.want)
		}
	}
}

func TestReadMux(t *testing.T) {
	debugfs := t.TempDir()
	ctl := filepath.Join(debugfs, "pinctrl", "fe200000.gpio-pinctrl-bcm2711")
	os.MkdirAll(ctl, 0o755)
	os.WriteFile(filepath.Join(ctl, "pins"), []byte(pinsSample), 0o644)
	os.WriteFile(filepath.Join(ctl, "pinmux-pins"), []byte(pinmuxSample), 0o644)
	mux, where, err := safety.ReadMux(debugfs, "pinctrl-bcm2711")
	if err != nil || where != ctl {
		t.Fatalf("ReadMux = %v, %q, %v", mux, where, err)
	}
	if mux[14].Away() != "claimed by fe215040.serial for uart1" || mux[17].Away() != "" {
		t.Errorf("mux = %+v", mux)
	}
	if mux, _, err := safety.ReadMux(debugfs, "pinctrl-rp1"); mux != nil || err != nil {
		t.Errorf("ReadMux for another controller = %v, %v; want nil, nil", mux, err)
	}
	if _, _, err := safety.ReadMux(filepath.Join(debugfs, "none"), "pinctrl-rp1"); err == nil {
		t.Error("ReadMux without debugfs gave no error")
	}
}

func TestLockBoard(t *testing.T) {
	dir := t.TempDir()
	l, err := safety.LockBoard(dir, "pinctrl-rp1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Path != filepath.Join(dir, "gpiohil-pinctrl-rp1.lock") {
		t.Errorf("lock path %s", l.Path)
	}
	_, err = safety.LockBoard(dir, "pinctrl-rp1")
	var le *safety.LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second lock = %v; want a LockedError with PID %d", err, os.Getpid())
	}
	if want := fmt.Sprintf("board lock %s is held by PID %d (", l.Path, os.Getpid()); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q; want it to start with %q", err, want)
	}
	other, err := safety.LockBoard(dir, "pinctrl-bcm2711")
	if err != nil {
		t.Errorf("a lock on another chip: %v", err)
	}
	other.Unlock()
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := safety.LockBoard(dir, "pinctrl-rp1")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
	if got := safety.LockPath("/run/lock", "gpio-sim.0/node 0"); got != "/run/lock/gpiohil-gpio-sim.0_node_0.lock" {
		t.Errorf("LockPath = %s", got)
	}
}

func TestRefusedError(t *testing.T) {
	err := error(&safety.RefusedError{Op: "drive", Line: "GPIO18", Reason: "its partner GPIO17 is an output"})
	if !errors.Is(err, safety.ErrRefused) || err.Error() != "safety: refused to drive GPIO18: its partner GPIO17 is an output" {
		t.Errorf("%v", err)
	}
	if err := error(&safety.UnavailableError{Line: "GPIO4", Reason: "x"}); !errors.Is(err, safety.ErrRefused) {
		t.Errorf("UnavailableError does not match ErrRefused")
	}
}
