package rig_test

import (
	"fmt"

	"github.com/gpiohil/gpiohil/loopback/rig"
)

func ExampleParse() {
	r, err := rig.Parse("lab.yaml", []byte(`
board: pi5
pairs:
  - {line: GPIO17, partner: GPIO18, resistor: 1k}
may-touch: [GPIO17, GPIO18]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := r.Pairs[0]
	fmt.Println(r.Chip)
	fmt.Println(p)
	fmt.Println(p.Resistor, "Ω:", p.Jumper().Fit())

	_, err = rig.Parse("lab.yaml", []byte("board: pi5\npairs:\n  - {line: GPIO17, partner: GPIO14}\nmay-touch: [GPIO17, GPIO14]\n"))
	fmt.Println(err)
	// Output:
	// pinctrl-rp1
	// pair A: GPIO17 (pin 11) under test, partner GPIO18 (pin 12)
	// 1000 Ω: wire with a 1kΩ resistor in series, pin 11 to pin 12
	// lab.yaml:3:5: pair A: GPIO14 (pin 8) is reserved: serial console (UART TXD/RXD); use another pin, or list GPIO14 in allow-reserved to use it anyway
}

func ExampleParseResistor() {
	for _, s := range []string{"330", "1k", "2k2", "4.7k"} {
		ohms, _ := rig.ParseResistor(s)
		fmt.Println(s, ohms)
	}
	// Output:
	// 330 330
	// 1k 1000
	// 2k2 2200
	// 4.7k 4700
}
