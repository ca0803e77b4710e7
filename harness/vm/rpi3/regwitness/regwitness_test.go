package regwitness

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The registers, as the tests write them.
const (
	gpfsel1  = 0x04
	gpfsel5  = 0x14
	gpset0   = 0x1c
	gpset1   = 0x20
	gpclr0   = 0x28
	gplev0   = 0x34
	gpren0   = 0x4c
	gppud    = 0x94
	gppudclk = 0x98
	gpclk1   = 0x9c
	pupPdn0  = 0xe4
	pupPdn1  = 0xe8
	pupPdn3  = 0xf0
)

// op is one write of a test sequence.
type op struct{ off, val uint32 }

// trace is the sequence as QEMU's log backend writes it.
func trace(ops ...op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString(Line(o.off, o.val) + "\n")
	}
	return b.String()
}

// decode decodes ops, failing t on an error.
func decode(t *testing.T, ops ...op) *Witness {
	t.Helper()
	w, err := Decode(strings.NewReader(trace(ops...)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return w
}

func TestLine(t *testing.T) {
	got := Line(0x8, 0x40)
	want := "memory_region_ops_write cpu 0 mr 0x55d8c0a1b2c0 addr 0x3f200008 value 0x40 size 4 name 'bcm2835_gpio'"
	if got != want {
		t.Errorf("Line(0x8, 0x40) = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	tests := []struct {
		name string
		in   string
		want []Write
	}{{
		name: "plain",
		in:   "memory_region_ops_write cpu 0 mr 0x55d8c0a1b2c0 addr 0x3f200008 value 0x40 size 4 name 'bcm2835_gpio'\n",
		want: []Write{{Line: 1, Offset: 0x8, Value: 0x40, Size: 4}},
	}, {
		name: "timestamp",
		in:   "12345@1733061234.123456:memory_region_ops_write cpu 0 mr 0x55d8c0a1b2c0 addr 0x3f200008 value 0x40 size 4 name 'bcm2835_gpio'\n",
		want: []Write{{Line: 1, Time: 1733061234.123456, Offset: 0x8, Value: 0x40, Size: 4}},
	}, {
		name: "relative address, no final newline, CRLF",
		in: "memory_region_ops_write cpu 1 mr 0x55d8c0a1b2c0 addr 0x1c value 0x20000 size 4 name 'bcm2835_gpio'\r\n" +
			"memory_region_ops_write cpu -1 mr (nil) addr 0x800 value 0xffffffff size 4 name 'bcm2835_gpio'",
		want: []Write{
			{Line: 1, Offset: 0x1c, Value: 0x20000, Size: 4},
			{Line: 2, Offset: MarkOffset, Value: 0xffffffff, Size: 4},
		},
	}, {
		name: "unrelated lines ignored",
		in: strings.Join([]string{
			"qemu-system-aarch64: warning: hub 0 is not connected to host network",
			"12345@1733061234.000001:memory_region_ops_write cpu 0 mr 0x55d8c0a1c000 addr 0x3f201000 value 0x41 size 4 name 'pl011'",
			"memory_region_ops_write cpu 0 mr 0x55d8c0a1c400 addr 0x3f003010 value 0x1e848 size 4 name 'bcm2835-sys-timer'",
			"memory_region_ops_read cpu 0 mr 0x55d8c0a1b2c0 addr 0x3f200034 value 0x0 size 4 name 'bcm2835_gpio'",
			"12345@1733061234.000002:memory_region_ops_write cpu 0 mr 0x55d8c0a1b2c0 addr 0x3f20001c value 0x20000 size 4 name 'bcm2835_gpio'",
			"",
			"\x00\xff garbage \x01 bcm2835_gpio 0xzz",
			"bcm2835_gpio_write: see memory_region_ops_write cpu 0 addr 0xzz name 'bcm2835_gpio'",
			"memory_region_ops_write cpu 0 mr 0x55d8c0a1d000 addr 0x3f300000 value 0x1 size 4 name 'bcm2835_gpio_extra'",
			long,
			Line(gpclr0, 1<<17),
		}, "\n") + "\n",
		want: []Write{
			{Line: 5, Time: 1733061234.000002, Offset: gpset0, Value: 0x20000, Size: 4},
			{Line: 11, Offset: gpclr0, Value: 0x20000, Size: 4},
		},
	}, {
		name: "empty",
		in:   "",
		want: nil,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := Line(gpset0, 1)
	tests := []struct {
		name string
		bad  string
		want string // in the error, besides the line number
	}{
		{"bad hex value", "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c value 0xzz size 4 name 'bcm2835_gpio'", `value "0xzz"`},
		{"value wider than 32 bits", "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c value 0x100000000 size 4 name 'bcm2835_gpio'", `value "0x100000000"`},
		{"address not hex", "memory_region_ops_write cpu 0 mr 0x55 addr 3f20001c value 0x1 size 4 name 'bcm2835_gpio'", `addr "3f20001c"`},
		{"missing size", "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c value 0x1 name 'bcm2835_gpio'", "10 fields"},
		{"field renamed", "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c val 0x1 size 4 name 'bcm2835_gpio'", `"val"`},
		{"bad size", "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c value 0x1 size four name 'bcm2835_gpio'", `size "four"`},
		{"bad timestamp", "12345@17330x1.5:memory_region_ops_write cpu 0 mr 0x55 addr 0x3f20001c value 0x1 size 4 name 'bcm2835_gpio'", `timestamp "17330x1.5"`},
		{"too long", Line(gpset0, 1) + strings.Repeat(" ", 100<<10), "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := good + "\n" + Line(gpclr0, 1) + "\n" + tc.bad + "\n" + good + "\n"
			_, err := Parse(strings.NewReader(in))
			if err == nil {
				t.Fatalf("Parse of %q: no error", tc.bad)
			}
			for _, want := range []string{"regwitness: line 3:", tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if _, err := Decode(strings.NewReader(in)); err == nil || err.Error() != errText(Parse(strings.NewReader(in))) {
				t.Errorf("Decode error %v, want Parse's", err)
			}
		})
	}
}

func errText(_ []Write, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFunctionSelect(t *testing.T) {
	tests := []struct {
		name  string
		ops   []op
		want  map[int]Function // every other pin: FunctionUnknown
		wrote map[int]int      // Pin.Writes, where checked
	}{{
		name: "GPFSEL1 pin 17 output",
		ops:  []op{{gpfsel1, 1 << 21}},
		want: map[int]Function{10: FunctionInput, 11: FunctionInput, 12: FunctionInput, 13: FunctionInput,
			14: FunctionInput, 15: FunctionInput, 16: FunctionInput, 17: FunctionOutput, 18: FunctionInput, 19: FunctionInput},
		wrote: map[int]int{9: 0, 10: 1, 17: 1, 19: 1, 20: 0},
	}, {
		name: "alt codes",
		ops:  []op{{gpfsel1, 4 | 5<<3 | 6<<6 | 7<<9 | 3<<12 | 2<<15 | 1<<18 | 0<<21 | 4<<24 | 2<<27}},
		want: map[int]Function{10: FunctionAlt0, 11: FunctionAlt1, 12: FunctionAlt2, 13: FunctionAlt3,
			14: FunctionAlt4, 15: FunctionAlt5, 16: FunctionOutput, 17: FunctionInput, 18: FunctionAlt0, 19: FunctionAlt5},
	}, {
		name:  "GPFSEL5: bits of pins 54-59 ignored",
		ops:   []op{{gpfsel5, 0xffffffff}},
		want:  map[int]Function{50: FunctionAlt3, 51: FunctionAlt3, 52: FunctionAlt3, 53: FunctionAlt3},
		wrote: map[int]int{49: 0, 50: 1, 53: 1},
	}, {
		name:  "later write wins",
		ops:   []op{{gpfsel1, 1 << 21}, {gpfsel1, 4 << 21}},
		want:  map[int]Function{10: FunctionInput, 11: FunctionInput, 12: FunctionInput, 13: FunctionInput, 14: FunctionInput, 15: FunctionInput, 16: FunctionInput, 17: FunctionAlt0, 18: FunctionInput, 19: FunctionInput},
		wrote: map[int]int{17: 2},
	}, {
		name: "GPFSEL0 pin 0",
		ops:  []op{{0x00, 1}},
		want: map[int]Function{0: FunctionOutput, 1: FunctionInput, 2: FunctionInput, 3: FunctionInput, 4: FunctionInput,
			5: FunctionInput, 6: FunctionInput, 7: FunctionInput, 8: FunctionInput, 9: FunctionInput},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := decode(t, tc.ops...)
			for pin, p := range w.Final {
				if want := tc.want[pin]; p.Function != want {
					t.Errorf("pin %d function %v, want %v", pin, p.Function, want)
				}
				if p.Latch != -1 || p.Pull != vocab.PullUnknown {
					t.Errorf("pin %d: %v; function writes set latch or pull", pin, p)
				}
			}
			for pin, n := range tc.wrote {
				if got := w.Final[pin].Writes; got != n {
					t.Errorf("pin %d: %d writes, want %d", pin, got, n)
				}
			}
		})
	}
}

func TestLatch(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		want map[int]int // every other pin: -1
	}{
		{"GPSET0 bit 17", []op{{gpset0, 1 << 17}}, map[int]int{17: 1}},
		{"GPSET0 then GPCLR0 bit 17", []op{{gpset0, 1 << 17}, {gpclr0, 1 << 17}}, map[int]int{17: 0}},
		{"GPCLR0 then GPSET0 bit 17", []op{{gpclr0, 1 << 17}, {gpset0, 1 << 17}}, map[int]int{17: 1}},
		{"GPSET1 bit 0 is pin 32", []op{{gpset1, 1}}, map[int]int{32: 1}},
		{"GPCLR1 bit 21 is pin 53, bits past it ignored", []op{{0x2c, 0xffc00000 | 1<<21}}, map[int]int{53: 0}},
		{"0 bits do nothing", []op{{gpset0, 1 << 4}, {gpclr0, 1 << 5}, {gpset0, 0}, {gpclr0, 0}}, map[int]int{4: 1, 5: 0}},
		{"several pins", []op{{gpset0, 1<<2 | 1<<3}, {gpclr0, 1 << 3}}, map[int]int{2: 1, 3: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := decode(t, tc.ops...)
			for pin, p := range w.Final {
				want, ok := tc.want[pin]
				if !ok {
					want = -1
				}
				if p.Latch != want {
					t.Errorf("pin %d latch %d, want %d", pin, p.Latch, want)
				}
				if p.Function != FunctionUnknown || p.Pull != vocab.PullUnknown {
					t.Errorf("pin %d: %v; latch writes set function or pull", pin, p)
				}
			}
		})
	}
}

func TestPull(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		want map[int]vocab.Pull // every other pin: unknown
		by   string             // PullBy of the pins in want with a known pull
	}{{
		name: "kernel pinctrl-bcm2835 pull-up",
		ops:  []op{{gppud, 2}, {gppudclk, 1 << 17}, {gppudclk, 0}},
		want: map[int]vocab.Pull{17: vocab.PullUp},
		by:   ByLegacy,
	}, {
		name: "kernel pinctrl-bcm2835 pull-down",
		ops:  []op{{gppud, 1}, {gppudclk, 1 << 17}, {gppudclk, 0}},
		want: map[int]vocab.Pull{17: vocab.PullDown},
		by:   ByLegacy,
	}, {
		name: "RPi.GPIO PUD_OFF",
		ops:  []op{{gppud, 0}, {gppudclk, 1 << 17}, {gppud, 0}, {gppudclk, 0}},
		want: map[int]vocab.Pull{17: vocab.PullNone},
		by:   ByLegacy,
	}, {
		name: "RPi.GPIO PUD_UP: GPPUD=0 while the clock is on does not undo it",
		ops:  []op{{gppud, 2}, {gppudclk, 1 << 17}, {gppud, 0}, {gppudclk, 0}},
		want: map[int]vocab.Pull{17: vocab.PullUp},
		by:   ByLegacy,
	}, {
		name: "GPPUDCLK1 bit 1 is pin 33",
		ops:  []op{{gppud, 2}, {gpclk1, 1 << 1}, {gpclk1, 0}},
		want: map[int]vocab.Pull{33: vocab.PullUp},
		by:   ByLegacy,
	}, {
		name: "GPPUD reserved value",
		ops:  []op{{gppud, 2}, {gppudclk, 1 << 5}, {gppud, 3}, {gppudclk, 1 << 5}},
		want: map[int]vocab.Pull{5: vocab.PullUnknown},
	}, {
		name: "GPPUDCLK before any GPPUD",
		ops:  []op{{gppudclk, 1 << 5}},
		want: map[int]vocab.Pull{5: vocab.PullUnknown},
	}, {
		name: "GPPUD alone applies nothing",
		ops:  []op{{gppud, 2}},
	}, {
		name: "BCM2711 pull-up",
		ops:  []op{{pupPdn1, 1 << 2}},
		want: map[int]vocab.Pull{16: vocab.PullNone, 17: vocab.PullUp, 18: vocab.PullNone, 19: vocab.PullNone,
			20: vocab.PullNone, 21: vocab.PullNone, 22: vocab.PullNone, 23: vocab.PullNone, 24: vocab.PullNone,
			25: vocab.PullNone, 26: vocab.PullNone, 27: vocab.PullNone, 28: vocab.PullNone, 29: vocab.PullNone,
			30: vocab.PullNone, 31: vocab.PullNone},
		by: ByBCM2711,
	}, {
		name: "BCM2711 pull-down, reserved",
		ops:  []op{{pupPdn0, 2<<(2*3) | 3<<(2*4)}},
		want: map[int]vocab.Pull{0: vocab.PullNone, 1: vocab.PullNone, 2: vocab.PullNone, 3: vocab.PullDown,
			4: vocab.PullUnknown, 5: vocab.PullNone, 6: vocab.PullNone, 7: vocab.PullNone, 8: vocab.PullNone,
			9: vocab.PullNone, 10: vocab.PullNone, 11: vocab.PullNone, 12: vocab.PullNone, 13: vocab.PullNone,
			14: vocab.PullNone, 15: vocab.PullNone},
		by: ByBCM2711,
	}, {
		name: "BCM2711 REG3: pins above 53 ignored",
		ops:  []op{{pupPdn3, 0x55555555}},
		want: map[int]vocab.Pull{48: vocab.PullUp, 49: vocab.PullUp, 50: vocab.PullUp, 51: vocab.PullUp,
			52: vocab.PullUp, 53: vocab.PullUp},
		by: ByBCM2711,
	}, {
		name: "later write wins across register kinds",
		ops:  []op{{pupPdn1, 1 << 2}, {gppud, 1}, {gppudclk, 1 << 17}, {gppudclk, 0}, {pupPdn1, 0}},
		want: map[int]vocab.Pull{16: vocab.PullNone, 17: vocab.PullNone, 18: vocab.PullNone, 19: vocab.PullNone,
			20: vocab.PullNone, 21: vocab.PullNone, 22: vocab.PullNone, 23: vocab.PullNone, 24: vocab.PullNone,
			25: vocab.PullNone, 26: vocab.PullNone, 27: vocab.PullNone, 28: vocab.PullNone, 29: vocab.PullNone,
			30: vocab.PullNone, 31: vocab.PullNone},
		by: ByBCM2711,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := decode(t, tc.ops...)
			for pin, p := range w.Final {
				want, ok := tc.want[pin]
				if !ok {
					want = vocab.PullUnknown
				}
				if p.Pull != want {
					t.Errorf("pin %d pull %v, want %v", pin, p.Pull, want)
				}
				wantBy := ""
				if want != vocab.PullUnknown {
					wantBy = tc.by
				}
				if p.PullBy != wantBy {
					t.Errorf("pin %d pull by %q, want %q", pin, p.PullBy, wantBy)
				}
				if p.Function != FunctionUnknown || p.Latch != -1 {
					t.Errorf("pin %d: %v; pull writes set function or latch", pin, p)
				}
				if touched := ok; touched != (p.Writes > 0) {
					t.Errorf("pin %d: %d writes; want some only for the pins the writes reached", pin, p.Writes)
				}
			}
		})
	}
}

// gpfsel1Boot is GPFSEL1 as the kernel left it before RPi.GPIO ran: GPIO14 and GPIO15 alt0
// (the UART). RPi.GPIO writes GPFSEL1 read-modify-write, so these stay.
const gpfsel1Boot = 4<<12 | 4<<15

// pullupdn is RPi.GPIO 0.7.1's set_pullupdn(17, pud) (pud: 0 off, 1 down, 2 up): the BCM2711
// register when bcm2711 (as on QEMU, where the magic reads back 0), else the legacy sequence.
// QEMU reads back 0 from the pull registers, so the read-modify-writes write the field alone.
func pullupdn(bcm2711 bool, pud uint32) []op {
	if bcm2711 {
		pull := [3]uint32{0, 2, 1}[pud] // PUD_OFF 0, PUD_DOWN 2, PUD_UP 1
		return []op{{pupPdn1, pull << ((17 & 0xf) << 1)}}
	}
	return []op{{gppud, pud}, {gppudclk, 1 << 17}, {gppud, 0}, {gppudclk, 0}}
}

func seq(parts ...[]op) []op {
	var all []op
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestRPiGPIO(t *testing.T) {
	const (
		pudOff  = 0
		pudUp   = 2
		fselOut = 1 << 21 // GPIO17 output in GPFSEL1
	)
	boot := []op{{gpfsel1, gpfsel1Boot}}
	mark := func(n uint32) []op { return []op{{MarkOffset, n}} }
	type at struct {
		mark  uint32
		fn    Function
		latch int
		pull  vocab.Pull
	}
	tests := []struct {
		name string
		ops  func(bcm2711 bool) []op
		want []at
	}{{
		name: "setup(17, IN, pull_up_down=PUD_UP), cleanup()",
		ops: func(bcm2711 bool) []op {
			return seq(boot,
				pullupdn(bcm2711, pudUp), []op{{gpfsel1, gpfsel1Boot}}, // setup_gpio(17, INPUT, PUD_UP)
				mark(1),
				pullupdn(bcm2711, pudOff), []op{{gpfsel1, gpfsel1Boot}}, // cleanup: setup_gpio(17, INPUT, PUD_OFF)
				mark(2))
		},
		want: []at{{1, FunctionInput, -1, vocab.PullUp}, {2, FunctionInput, -1, vocab.PullNone}},
	}, {
		name: "setup(17, OUT, initial=HIGH), no cleanup",
		ops: func(bcm2711 bool) []op {
			return seq(boot,
				[]op{{gpset0, 1 << 17}},                                           // output_gpio(17, HIGH)
				pullupdn(bcm2711, pudOff), []op{{gpfsel1, gpfsel1Boot | fselOut}}, // setup_gpio(17, OUTPUT, PUD_OFF)
				mark(1))
		},
		want: []at{{1, FunctionOutput, 1, vocab.PullNone}},
	}}
	for _, tc := range tests {
		for _, bcm2711 := range []bool{false, true} {
			by := map[bool]string{false: ByLegacy, true: ByBCM2711}[bcm2711]
			t.Run(tc.name+"/"+by, func(t *testing.T) {
				w := decode(t, tc.ops(bcm2711)...)
				for _, want := range tc.want {
					s, ok := w.At(want.mark)
					if !ok {
						t.Fatalf("no state at mark %d", want.mark)
					}
					p := s[17]
					if p.Function != want.fn || p.Latch != want.latch || p.Pull != want.pull || p.PullBy != by {
						t.Errorf("mark %d: GPIO17 %v, want %v, latch %d, pull %v by %s", want.mark, p, want.fn, want.latch, want.pull, by)
					}
					if s[14].Function != FunctionAlt0 || s[15].Function != FunctionAlt0 {
						t.Errorf("mark %d: GPIO14 %v, GPIO15 %v, want both alt0 (the read-modify-write keeps them)", want.mark, s[14], s[15])
					}
				}
				if len(w.Marks) != len(tc.want) {
					t.Errorf("%d marks, want %d", len(w.Marks), len(tc.want))
				}
			})
		}
	}
}

func TestMarks(t *testing.T) {
	w := decode(t,
		op{gpset0, 1 << 17},
		op{MarkOffset, 7},
		op{gpclr0, 1 << 17},
		op{gpfsel1, 1 << 21},
		op{MarkOffset, 8},
	)
	s7, ok := w.At(7)
	if !ok {
		t.Fatal("At(7): no state")
	}
	if s7[17].Latch != 1 || s7[17].Function != FunctionUnknown {
		t.Errorf("At(7) GPIO17 %v, want latch 1, function unknown: later writes changed the snapshot", s7[17])
	}
	s8, ok := w.At(8)
	if !ok || s8[17].Latch != 0 || s8[17].Function != FunctionOutput {
		t.Errorf("At(8) GPIO17 %v (ok %v), want output, latch 0", s8[17], ok)
	}
	if w.Final != s8 {
		t.Errorf("Final differs from the state at the last mark, with no write between them")
	}
	for _, m := range []uint32{0, 6, 9} {
		if _, ok := w.At(m); ok {
			t.Errorf("At(%d) = true for a mark never written", m)
		}
	}
	if w.Writes != 5 || w.Ignored != 0 {
		t.Errorf("Writes %d, Ignored %d, want 5 and 0", w.Writes, w.Ignored)
	}

	_, err := Decode(strings.NewReader(trace(op{MarkOffset, 3}, op{gpset0, 1}, op{MarkOffset, 4}, op{MarkOffset, 3})))
	if err == nil {
		t.Fatal("a mark written twice: no error")
	}
	for _, want := range []string{"regwitness: ", "mark 3", "line 1", "line 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSize(t *testing.T) {
	for _, size := range []int{1, 2, 8} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			_, err := Replay([]Write{{Line: 1, Offset: gpset0, Value: 1, Size: 4}, {Line: 9, Offset: gpset0, Value: 1, Size: size}})
			if err == nil || !strings.Contains(err.Error(), "regwitness: line 9") || !strings.Contains(err.Error(), fmt.Sprintf("%d-byte", size)) {
				t.Errorf("Replay of a %d-byte write: error %v, want one naming line 9 and the size", size, err)
			}
			line := strings.Replace(Line(gpset0, 1), "size 4", fmt.Sprintf("size %d", size), 1)
			if _, err := Decode(strings.NewReader(line)); err == nil {
				t.Errorf("Decode of %q: no error", line)
			}
		})
	}
}

func TestDecodeCounts(t *testing.T) {
	in := "12345@1733061234.5:memory_region_ops_write cpu 0 mr 0x55 addr 0x3f201000 value 0x41 size 4 name 'pl011'\n" +
		trace(op{gpfsel1, 1 << 21}, op{gplev0, 1}, op{gpren0, 1 << 17}, op{gpset0, 1 << 17}, op{MarkOffset, 1})
	w, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if w.Writes != 5 || w.Ignored != 2 {
		t.Errorf("Writes %d, Ignored %d, want 5 and 2", w.Writes, w.Ignored)
	}
	if w.Final[17].Writes != 2 {
		t.Errorf("GPIO17 %d writes, want 2 (GPFSEL1, GPSET0)", w.Final[17].Writes)
	}
	ws, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Replay(ws)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, w) {
		t.Errorf("Replay(Parse) = %+v, Decode = %+v", r, w)
	}
	empty, err := Decode(strings.NewReader(""))
	if err != nil || empty.Final[0].Latch != -1 || empty.Final[0].Pull != vocab.PullUnknown || len(empty.Marks) != 0 {
		t.Errorf("Decode of an empty trace = %+v, %v; want every pin unknown", empty, err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Pin{Function: FunctionOutput, Latch: 1, Pull: vocab.PullUp, PullBy: ByLegacy}.String(), "output, latch 1, pull-up (GPPUD/GPPUDCLK)"},
		{Pin{Function: FunctionInput, Latch: -1, Pull: vocab.PullUnknown}.String(), "input, latch unknown, pull unknown"},
		{Pin{Function: FunctionAlt5, Latch: 0, Pull: vocab.PullNone, PullBy: ByBCM2711}.String(), "alt5, latch 0, pull none (PUP_PDN_CNTRL)"},
		{Pin{Latch: -1, Pull: vocab.PullDown, PullBy: ByBCM2711}.String(), "function unknown, latch unknown, pull-down (PUP_PDN_CNTRL)"},
		{FunctionUnknown.String(), "unknown"},
		{FunctionAlt0.String(), "alt0"},
		{FunctionAlt4.String(), "alt4"},
		{Function(42).String(), "Function(42)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// On raspi4b (QEMU 10's trace: no timestamp prefix, region bcm2838_gpio at 0xfe200000) the
// BCM2711's pull registers set the pull and the legacy GPPUD/GPPUDCLK sequence, which that SoC
// does not have, changes nothing.
func TestBCM2711(t *testing.T) {
	trace := strings.Join([]string{
		Line2711(0x04, 1<<21),    // GPFSEL1: pin 17 output
		Line2711(0x1c, 1<<17),    // set pin 17
		Line2711(0xe8, 1<<2),     // PUP_PDN1: pin 17 pull-up
		Line2711(0x94, 1),        // GPPUD: pull-down ...
		Line2711(0x98, 1<<17),    // ... clocked into pin 17: not on the BCM2711
		Line2711(MarkOffset, 1),  // mark 1
		Line2711(0xe8, 2<<(2*6)), // PUP_PDN1: pin 22 pull-down, pin 17 none
		Line2711(MarkOffset, 2),
		Line(0x1c, 1<<18), // a raspi3b line is read too: one decoder for both
	}, "\n") + "\n"
	w, err := Decode(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	s1, ok1 := w.At(1)
	s2, ok2 := w.At(2)
	if !ok1 || !ok2 {
		t.Fatalf("marks: %v %v; want both", ok1, ok2)
	}
	if p := s1[17]; p.Function != FunctionOutput || p.Latch != 1 || p.Pull != vocab.PullUp || p.PullBy != ByBCM2711 {
		t.Errorf("mark 1, pin 17: %s; want output, latch 1, pull-up (PUP_PDN_CNTRL): the legacy writes ignored", p)
	}
	if p := s2[17]; p.Pull != vocab.PullNone {
		t.Errorf("mark 2, pin 17: %s; want pull none", p)
	}
	if p := s2[22]; p.Pull != vocab.PullDown {
		t.Errorf("mark 2, pin 22: %s; want pull-down", p)
	}
	if w.Ignored != 2 || w.Writes != 9 {
		t.Errorf("%d writes, %d ignored; want 9 and 2 (the legacy pull writes)", w.Writes, w.Ignored)
	}
}

// History keeps each pin's changes with their trace lines and times, and Between gives those
// between two marks: what a timeline of the pin is made of.
func TestHistoryBetweenMarks(t *testing.T) {
	var b strings.Builder
	for i, w := range [][2]uint32{
		{0x04, 0}, {MarkOffset, 1}, // 17 an input, mark 1
		{0x1c, 1 << 17}, {0x04, 1 << 21}, {0x1c, 1 << 17}, // set (latch 1), output; set again: no change
		{0x28, 1 << 18},                             // another pin
		{MarkOffset, 2}, {0x04, 0}, {MarkOffset, 3}, // after mark 2: input
	} {
		fmt.Fprintf(&b, "1@100.%06d:%s\n", i+1, Line(w[0], w[1]))
	}
	w, err := Decode(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	cs, t0, t1, ok := w.Between(17, 1, 2)
	if !ok || t0 != 100.000002 || t1 != 100.000007 {
		t.Fatalf("Between: ok %v, marks at %v and %v", ok, t0, t1)
	}
	if len(cs) != 2 || cs[0].Register != "GPSET0" || cs[0].Pin.Latch != 1 || cs[1].Register != "GPFSEL1" || cs[1].Pin.Function != FunctionOutput || cs[1].Time != 100.000004 {
		t.Errorf("changes %+v; want GPSET0 (latch 1) then GPFSEL1 (output) at 100.000004", cs)
	}
	if _, _, _, ok := w.Between(17, 1, 9); ok {
		t.Error("Between a mark the trace lacks: ok")
	}
}
