package header_test

import (
	"fmt"
	"os"

	"github.com/gpiohil/gpiohil/loopback/header"
)

func ExampleByName() {
	p, _ := header.ByName("GPIO17")
	fmt.Println(p, p.Reserved == "")
	p, _ = header.ByName("GPIO2")
	fmt.Println(p, p.Function, "-", p.Reserved)
	// Output:
	// GPIO17 (pin 11) true
	// GPIO2 (pin 3) I2C1 SDA - fixed 1.8 kΩ pull-up to 3V3 on the board: pulls and floating cannot be told apart
}

func ExampleJumper_Fit() {
	for _, j := range header.Default().Jumpers[:2] {
		fmt.Printf("%s: %s\n", j.Name, j.Fit())
	}
	j := header.Default().Jumpers[6]
	fmt.Printf("%s: %s\n", j.Name, j.Fit())
	// Output:
	// A: jumper cap across pins 11-12
	// B: jumper cap along pins 13-15
	// G: female-female jumper wire, pin 29 to pin 33
}

func ExampleWriteText() {
	g22, _ := header.ByName("GPIO22")
	g23, _ := header.ByName("GPIO23")
	p := header.Plan{Title: "one jumper", Jumpers: []header.Jumper{{Name: "A", Line: g22, Partner: g23}}}
	header.WriteText(os.Stdout, p)
	// Output:
	// Raspberry Pi 40-pin header (Pi 1 B+ to Pi 5): one jumper
	// pin 1 is the square pad; odd pins are on the row nearer the middle of the board
	//
	//                      3V3  1 [ ] [ ] 2  5V
	//   (fixed pull-up)  GPIO2  3 [-] [ ] 4  5V
	//   (fixed pull-up)  GPIO3  5 [-] [ ] 6  GND
	//                    GPIO4  7 [ ] [-] 8  GPIO14 (console)
	//                      GND  9 [ ] [-] 10 GPIO15 (console)
	//                   GPIO17 11 [ ] [ ] 12 GPIO18
	//                   GPIO27 13 [ ] [ ] 14 GND
	//                   GPIO22 15 [A] [a] 16 GPIO23
	//                      3V3 17 [ ] [ ] 18 GPIO24
	//            (SPI0) GPIO10 19 [-] [ ] 20 GND
	//            (SPI0)  GPIO9 21 [-] [ ] 22 GPIO25
	//            (SPI0) GPIO11 23 [-] [-] 24 GPIO8  (SPI0)
	//                      GND 25 [ ] [-] 26 GPIO7  (SPI0)
	//       (ID EEPROM)  GPIO0 27 [-] [-] 28 GPIO1  (ID EEPROM)
	//                    GPIO5 29 [ ] [ ] 30 GND
	//                    GPIO6 31 [ ] [ ] 32 GPIO12
	//                   GPIO13 33 [ ] [ ] 34 GND
	//                   GPIO19 35 [ ] [ ] 36 GPIO16
	//                   GPIO26 37 [ ] [ ] 38 GPIO20
	//                      GND 39 [ ] [ ] 40 GPIO21
	//
	// A   GPIO22 (pin 15)  under test, partner GPIO23 (pin 16)  jumper cap across pins 15-16
	// capital letter: the line under test; small letter: its partner; -: left alone (ID EEPROM GPIO0-1, fixed pull-ups GPIO2-3, console GPIO14-15, SPI0 GPIO7-11)
}
