package vocab

import (
	"fmt"
	"strconv"
	"strings"
)

// Ending is how a tool's process ends.
type Ending int

// The endings.
const (
	Exit        Ending = iota // it ends by itself
	SIGINT                    // it is sent SIGINT (Ctrl-C)
	SIGTERM                   // it is sent SIGTERM (kill, systemd)
	SIGKILL                   // it is sent SIGKILL
	ParentDeath               // its parent is SIGKILLed; a tool that does not notice is SIGKILLed afterwards
)

// Endings lists every ending, in the order reports show them.
var Endings = []Ending{Exit, SIGINT, SIGTERM, SIGKILL, ParentDeath}

var endingWords = [...]string{"exit", "sigint", "sigterm", "sigkill", "parent-death"}

// String is the ending's word in expectations, spec names and labels: exit, sigint, sigterm,
// sigkill or parent-death.
func (e Ending) String() string {
	if e < 0 || int(e) >= len(endingWords) {
		return "Ending(" + strconv.Itoa(int(e)) + ")"
	}
	return endingWords[e]
}

// Title is how messages name the ending: exit, SIGINT, SIGTERM, SIGKILL or parent-death.
func (e Ending) Title() string {
	switch e {
	case SIGINT, SIGTERM, SIGKILL:
		return strings.ToUpper(e.String())
	}
	return e.String()
}

// Signalled reports whether the ending sends the tool a signal of its own.
func (e Ending) Signalled() bool { return e == SIGINT || e == SIGTERM || e == SIGKILL }

// Valid reports whether e is one of Endings.
func (e Ending) Valid() bool { return e >= Exit && e <= ParentDeath }

// ParseEnding reads an ending's word (case does not matter: SIGTERM and sigterm are one).
func ParseEnding(s string) (Ending, error) {
	for i, w := range endingWords {
		if strings.EqualFold(s, w) {
			return Ending(i), nil
		}
	}
	return 0, fmt.Errorf("ending %q unknown; want %s", s, OneOf(endingWords[:]))
}

// MarshalText implements encoding.TextMarshaler.
func (e Ending) MarshalText() ([]byte, error) {
	if !e.Valid() {
		return nil, fmt.Errorf("ending %d unknown", int(e))
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Ending) UnmarshalText(b []byte) (err error) {
	*e, err = ParseEnding(string(b))
	return err
}

// Bench is what a user picks with gpiohil run --bench.
type Bench string

// The benches.
const (
	BenchAuto    Bench = "auto"     // gpio-sim on this kernel when it can, else the VM
	BenchVM      Bench = "vm"       // gpio-sim in gpiohil's own VM
	BenchGPIOSim Bench = "gpio-sim" // gpio-sim on the running kernel
	BenchVMRPi3  Bench = "vm-rpi3"  // the emulated Raspberry Pi 3 and 4
	BenchRPi     Bench = "rpi"      // a Raspberry Pi with loopback jumpers
)

// Benches lists every bench.
var Benches = []Bench{BenchAuto, BenchVM, BenchGPIOSim, BenchVMRPi3, BenchRPi}

// ParseBench reads a bench.
func ParseBench(s string) (Bench, error) { return parse("bench", s, Benches) }

func (b Bench) String() string { return string(b) }

// Set implements flag.Value.
func (b *Bench) Set(s string) error { return SetWord(b, s, Benches) }

// Kind is the kind of bench the suites see on this bench; "" for auto, which is not decided.
func (b Bench) Kind() BenchKind {
	switch b {
	case BenchVM, BenchGPIOSim:
		return KindGPIOSim
	case BenchVMRPi3:
		return KindVMRPi3
	case BenchRPi:
		return KindRPi
	}
	return ""
}

// BenchKind is where the lines of a running suite live.
type BenchKind string

// The bench kinds.
const (
	KindGPIOSim BenchKind = "gpio-sim" // gpio-sim on the running kernel (the VM lane, or a host that has it)
	KindVMRPi3  BenchKind = "vm-rpi3"  // the emulated Raspberry Pi 3's and 4's pinctrl-bcm2835
	KindRPi     BenchKind = "rpi"      // a Raspberry Pi with loopback jumpers, seen from partner pins
)

// BenchKinds lists every bench kind.
var BenchKinds = []BenchKind{KindGPIOSim, KindVMRPi3, KindRPi}

// ParseBenchKind reads a bench kind.
func ParseBenchKind(s string) (BenchKind, error) { return parse("bench kind", s, BenchKinds) }

func (k BenchKind) String() string { return string(k) }
