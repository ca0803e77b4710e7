package profile_test

import (
	"fmt"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

func ExampleProfile_Command() {
	p, err := profile.Lookup("libgpiod-v1")
	if err != nil {
		panic(err)
	}
	line := profile.Vars{Chip: "/dev/gpiochip3", Offset: 5, Value: 1, Bias: vocab.BiasDisabled}
	argv, err := p.Command(vocab.Hold, line)
	fmt.Println(argv, err)

	_, err = p.Command(vocab.HoldCleanup, line)
	fmt.Println(err)
	// Output:
	// [gpioset --mode=signal --bias=disable /dev/gpiochip3 5=1] <nil>
	// profile libgpiod-v1: action "hold-cleanup" not supported by the tool; it provides: set-output, set-input, hold
}

func ExampleParse() {
	_, err := profile.Parse("mytool.yaml", []byte(`name: mytool
description: my tool
requires: [mytool]
actions:
  set-output:
    command: [mytool, "{{.Chip}}", "{{.Pin}}={{.Value}}"]
`))
	fmt.Println(err)
	// Output:
	// mytool.yaml:6:39: unknown variable .Pin in command of action "set-output"; known variables: Self, Chip, ChipName, ChipLabel, Line, Offset, Value, Bias, SysfsNumber
}
