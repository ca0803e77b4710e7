// Package emulatedpi checks bench.EmulatedPi and what the Raspberry Pi's own GPIO driver,
// pinctrl-bcm2835, does with a line when it is released, inside the emulated Raspberry Pi 3
// (package harness/vm/rpi3), once with persist_gpio_outputs off and once with it on.
//
// It holds only tests: `go test ./harness/bench/emulatedpi` boots the emulated Pi once per lane
// (harness/vm/rpi3/rpi3test) and runs them there. The expected outcome of every scenario is a
// table keyed by lane, and one test checks the persist-off row against the persist-on lane's
// observations (and the other way round) to prove that the check can fail. The tests use BCM
// GPIO 17 and 27 and check, around the whole run, that the pins the bench must never touch
// (GPIO 0, 1, 14, 15 and 28 to 53) kept their functions.
package emulatedpi
