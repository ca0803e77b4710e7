package emulatedpi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
)

func TestMain(m *testing.M) {
	if rpi3test.InPi() {
		os.Exit(guarded(m))
	}
	os.Exit(rpi3test.Main(m))
}

// guarded runs the tests and fails the run when a pin the bench must never touch changed its
// function meanwhile.
func guarded(m *testing.M) int {
	before, err := reservedFunctions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: read the reserved pins' functions: %v\n", err)
		return 1
	}
	code := m.Run()
	after, err := reservedFunctions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: read the reserved pins' functions: %v\n", err)
		return 1
	}
	for n, fn := range before {
		if after[n] != fn {
			fmt.Fprintf(os.Stderr, "FAIL: GPIO %d, which the bench must never touch, went from %s to %s during the tests\n", n, fn, after[n])
			code = 1
		}
	}
	return code
}

// reservedFunctions reads the function of every pin PiAllowed refuses, straight from debugfs.
func reservedFunctions() (map[int]string, error) {
	files, _ := filepath.Glob("/sys/kernel/debug/pinctrl/*-" + bench.BCM2835Label + "/pins")
	if len(files) != 1 {
		return nil, fmt.Errorf("want one pinctrl-bcm2835 pins file in debugfs, found %v", files)
	}
	fns := map[int]string{}
	for n := 0; n < 54; n++ {
		if ok, _ := bench.PiAllowed(n); ok {
			continue
		}
		fn, err := bench.PinFunction(files[0], n)
		if err != nil {
			return nil, err
		}
		fns[n] = fn
	}
	if fns[14] != "alt5" || fns[15] != "alt5" {
		return nil, fmt.Errorf("GPIO 14 and 15 are %s and %s, want alt5 (the mini UART carrying the results)", fns[14], fns[15])
	}
	return fns, nil
}
