// Package regwitness decodes QEMU's trace of the writes to the emulated Raspberry Pi's GPIO
// block into each pin's function, output latch and pull: a host-side witness of what every
// tool did to every pin, including tools that write the registers through /dev/mem.
//
// QEMU's raspi3b machine drops pull writes, so the guest can never read a pin's pull back. Run
// QEMU with `-trace memory_region_ops_write,file=F` (the log backend) and Decode F: the writes
// to the region 'bcm2835_gpio' (raspi3b) or 'bcm2838_gpio' (raspi4b) are replayed against the
// BCM2835 register map (BCM2835 ARM Peripherals, ch. 6), with the BCM2711 pull registers too
// (RPi.GPIO writes those on the emulated Pi 3 as well). On the BCM2711 the legacy pull
// registers do not exist: their writes are ignored there. Every other line of F is ignored.
//
// On the Pi 4, whose kernel reads the pulls back, the witness is a second opinion: the two must
// agree (package launch checks it).
//
// gpiohil's observer in the guest writes a mark number to MarkOffset, which the hardware does
// not use, right when it observes the pins; the Witness keeps every pin's state at each mark.
package regwitness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The GPIO block.
const (
	Base       = 0x3f200000 // the GPIO block of the BCM2837 (raspi3b), physical
	Base2711   = 0xfe200000 // the GPIO block of the BCM2711 (raspi4b), physical
	MarkOffset = 0x800      // unused by the hardware: gpiohil's observer writes mark numbers here
	Pins       = 54         // GPIO0..GPIO53 (the BCM2711 has 58: 54 to 57, not on the header, are not decoded)
)

// Region is the name QEMU gives the GPIO block's memory region on raspi3b, Region2711 on raspi4b.
const (
	Region     = "bcm2835_gpio"
	Region2711 = "bcm2838_gpio"
)

// The registers the decoder knows, as offsets in the block.
const (
	offFSEL0     = 0x00 // GPFSEL0..5: 0x00..0x14
	offFSEL5     = 0x14
	offSET0      = 0x1c
	offSET1      = 0x20
	offCLR0      = 0x28
	offCLR1      = 0x2c
	offPUD       = 0x94
	offPUDCLK0   = 0x98
	offPUDCLK1   = 0x9c
	offPUPPDN0   = 0xe4 // BCM2711 GPIO_PUP_PDN_CNTRL_REG0..3: 0xe4..0xf0
	offPUPPDN3   = 0xf0
	regionMask   = 0xfff
	maxLineBytes = 64 << 10
)

// The registers that set a pin's pull, as Pin.PullBy names them.
const (
	ByLegacy  = "GPPUD/GPPUDCLK"
	ByBCM2711 = "PUP_PDN_CNTRL"
)

// Function is a pin's function, as its GPFSEL field selects it.
type Function int

// The functions.
const (
	FunctionUnknown Function = iota // no GPFSEL write reached the pin
	FunctionInput
	FunctionOutput
	FunctionAlt0
	FunctionAlt1
	FunctionAlt2
	FunctionAlt3
	FunctionAlt4
	FunctionAlt5
)

var functionWords = [...]string{"unknown", "input", "output", "alt0", "alt1", "alt2", "alt3", "alt4", "alt5"}

// String is "unknown", "input", "output" or "alt0".."alt5".
func (f Function) String() string {
	if f < 0 || int(f) >= len(functionWords) {
		return "Function(" + strconv.Itoa(int(f)) + ")"
	}
	return functionWords[f]
}

// fselFunction maps a 3-bit GPFSEL code to its function.
var fselFunction = [8]Function{
	0: FunctionInput, 1: FunctionOutput, 4: FunctionAlt0, 5: FunctionAlt1,
	6: FunctionAlt2, 7: FunctionAlt3, 3: FunctionAlt4, 2: FunctionAlt5,
}

// Write is one write to the GPIO block, as the trace logged it.
type Write struct {
	Line    int     // line number in the trace, from 1
	Time    float64 // seconds, 0 when the line had no timestamp
	Offset  uint32  // in the block: the address & 0xfff
	Value   uint32
	Size    int  // bytes
	BCM2711 bool // a write to raspi4b's block, which has no legacy pull registers
}

// Pin is one pin's state as the writes left it.
type Pin struct {
	Function Function
	Latch    int        // -1 unknown, else 0 or 1: the output latch (what the pin drives when it is an output)
	Pull     vocab.Pull // vocab.PullUnknown until a pull write reached the pin
	PullBy   string     // which registers set it: ByLegacy or ByBCM2711 ("" when unknown)
	Writes   int        // writes that touched this pin (function, latch or pull)
}

// String is e.g. "output, latch 1, pull-up (GPPUD/GPPUDCLK)" or "input, latch unknown, pull
// unknown".
func (p Pin) String() string {
	var b strings.Builder
	if p.Function == FunctionUnknown {
		b.WriteString("function ")
	}
	b.WriteString(p.Function.String())
	b.WriteString(", latch ")
	if p.Latch == 0 || p.Latch == 1 {
		b.WriteString(strconv.Itoa(p.Latch))
	} else {
		b.WriteString(vocab.Unknown)
	}
	b.WriteString(", ")
	switch p.Pull {
	case vocab.PullUp, vocab.PullDown:
		b.WriteString(string(p.Pull))
	case vocab.PullNone:
		b.WriteString("pull none")
	default:
		b.WriteString("pull unknown")
	}
	if p.PullBy != "" && p.Pull != vocab.PullUnknown && p.Pull != "" {
		b.WriteString(" (" + p.PullBy + ")")
	}
	return b.String()
}

// State is every pin's state, indexed by GPIO number.
type State [Pins]Pin

// unknownState is the state before any write: nothing known.
func unknownState() State {
	var s State
	for i := range s {
		s[i] = Pin{Latch: -1, Pull: vocab.PullUnknown}
	}
	return s
}

// Witness is what the writes did to the pins.
type Witness struct {
	Marks   map[uint32]State // the state at each mark
	Final   State            // after the last write
	Writes  int              // GPIO-block writes decoded, marks and ignored ones included
	Ignored int              // GPIO-block writes to offsets the decoder does not know
	// MarkTimes is when each mark was written, in the trace's seconds (0 without timestamps:
	// QEMU stamps its trace lines with -msg timestamp=on).
	MarkTimes map[uint32]float64
	// MarkLines is the trace line of each mark.
	MarkLines map[uint32]int
	// History is each pin's changes, in order: a write that changed its function, latch or pull.
	History [Pins][]Change
}

// Change is one write's change of one pin.
type Change struct {
	Line     int     // the trace's line
	Time     float64 // the trace's seconds
	Register string  // e.g. GPFSEL1, GPSET0, GPPUDCLK0, PUP_PDN_CNTRL0
	Pin      Pin     // the pin's state after it
}

// Between is pin n's changes after mark from and up to mark to, with the times of both marks;
// false when either mark is not in the trace.
func (w *Witness) Between(n int, from, to uint32) (cs []Change, t0, t1 float64, ok bool) {
	l0, ok0 := w.MarkLines[from]
	l1, ok1 := w.MarkLines[to]
	if !ok0 || !ok1 || n < 0 || n >= Pins {
		return nil, 0, 0, false
	}
	t0, t1 = w.MarkTimes[from], w.MarkTimes[to]
	for _, c := range w.History[n] {
		if c.Line > l0 && c.Line < l1 {
			cs = append(cs, c)
		}
	}
	return cs, t0, t1, true
}

// register names the register at offset off.
func register(off uint32) string {
	switch {
	case off <= offFSEL5:
		return fmt.Sprintf("GPFSEL%d", off/4)
	case off == offSET0 || off == offSET1:
		return fmt.Sprintf("GPSET%d", (off-offSET0)/4)
	case off == offCLR0 || off == offCLR1:
		return fmt.Sprintf("GPCLR%d", (off-offCLR0)/4)
	case off == offPUD:
		return "GPPUD"
	case off == offPUDCLK0 || off == offPUDCLK1:
		return fmt.Sprintf("GPPUDCLK%d", (off-offPUDCLK0)/4)
	case off >= offPUPPDN0 && off <= offPUPPDN3:
		return fmt.Sprintf("PUP_PDN_CNTRL%d", (off-offPUPPDN0)/4)
	}
	return fmt.Sprintf("offset 0x%x", off)
}

// At is the state when the observer wrote mark; false when no write of that mark was traced.
func (w *Witness) At(mark uint32) (State, bool) {
	s, ok := w.Marks[mark]
	return s, ok
}

// Parse reads a QEMU trace and returns the GPIO block's writes, in order. Lines that are not a
// memory_region_ops_write of region 'bcm2835_gpio' are ignored; one of that region that does
// not parse is an error naming its line.
func Parse(r io.Reader) ([]Write, error) {
	var ws []Write
	err := scan(r, func(w Write) error {
		ws = append(ws, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ws, nil
}

// Replay decodes writes, in order, into the pins' states. A mark written twice, or a write
// whose size is not 4, is an error.
func Replay(ws []Write) (*Witness, error) {
	d := newDecoder()
	for _, w := range ws {
		if err := d.apply(w); err != nil {
			return nil, err
		}
	}
	return d.w, nil
}

// Decode is Parse then Replay, one line at a time: memory stays bounded whatever the trace's
// size.
func Decode(r io.Reader) (*Witness, error) {
	d := newDecoder()
	if err := scan(r, d.apply); err != nil {
		return nil, err
	}
	return d.w, nil
}

// Line formats one write to the GPIO block at offset as QEMU's log backend does, without a
// timestamp, with its absolute address.
func Line(offset, value uint32) string {
	return fmt.Sprintf("memory_region_ops_write cpu 0 mr 0x55d8c0a1b2c0 addr 0x%x value 0x%x size 4 name '%s'",
		Base+offset, value, Region)
}

// Line2711 is Line for raspi4b's GPIO block.
func Line2711(offset, value uint32) string {
	return fmt.Sprintf("memory_region_ops_write cpu 2 mr 0x7f3a5c0b8e20 addr 0x%x value 0x%x size 4 name '%s'",
		Base2711+offset, value, Region2711)
}

// decoder replays writes one at a time.
type decoder struct {
	w        *Witness
	s        State
	pud      vocab.Pull // the GPPUD value: what the next GPPUDCLK write applies
	markLine map[uint32]int
}

func newDecoder() *decoder {
	return &decoder{
		w:        &Witness{Marks: map[uint32]State{}, MarkTimes: map[uint32]float64{}, MarkLines: map[uint32]int{}, Final: unknownState()},
		s:        unknownState(),
		pud:      vocab.PullUnknown,
		markLine: map[uint32]int{},
	}
}

func (d *decoder) apply(w Write) error {
	d.w.Writes++
	if w.Size != 4 {
		return fmt.Errorf("regwitness: line %d: %d-byte write of 0x%x to offset 0x%x; the GPIO registers take 32-bit writes only (size 4): is this the trace of a raspi3b's bcm2835_gpio?",
			w.Line, w.Size, w.Value, w.Offset)
	}
	v := w.Value
	old := d.s
	defer d.history(old, w)
	switch off := w.Offset; {
	case off >= offFSEL0 && off <= offFSEL5 && off%4 == 0:
		first := int(off-offFSEL0) / 4 * 10
		for i := 0; i < 10 && first+i < Pins; i++ {
			p := &d.s[first+i]
			p.Function = fselFunction[v>>(3*i)&7]
			p.Writes++
		}
	case off == offSET0, off == offSET1:
		d.bits(v, off == offSET1, func(p *Pin) { p.Latch = 1 })
	case off == offCLR0, off == offCLR1:
		d.bits(v, off == offCLR1, func(p *Pin) { p.Latch = 0 })
	case w.BCM2711 && (off == offPUD || off == offPUDCLK0 || off == offPUDCLK1):
		d.w.Ignored++ // not there on the BCM2711: the write changes nothing
	case off == offPUD:
		d.pud = [4]vocab.Pull{vocab.PullNone, vocab.PullDown, vocab.PullUp, vocab.PullUnknown}[v&3]
	case off == offPUDCLK0, off == offPUDCLK1:
		d.bits(v, off == offPUDCLK1, func(p *Pin) { setPull(p, d.pud, ByLegacy) })
	case off >= offPUPPDN0 && off <= offPUPPDN3 && off%4 == 0:
		first := int(off-offPUPPDN0) / 4 * 16
		for i := 0; i < 16 && first+i < Pins; i++ {
			pull := [4]vocab.Pull{vocab.PullNone, vocab.PullUp, vocab.PullDown, vocab.PullUnknown}[v>>(2*i)&3]
			p := &d.s[first+i]
			setPull(p, pull, ByBCM2711)
			p.Writes++
		}
	case off == MarkOffset:
		if prev, ok := d.markLine[v]; ok {
			return fmt.Errorf("regwitness: mark %d written twice, at line %d and at line %d; the observer must write a new mark number for each observation",
				v, prev, w.Line)
		}
		d.markLine[v] = w.Line
		d.w.Marks[v] = d.s
		d.w.MarkTimes[v], d.w.MarkLines[v] = w.Time, w.Line
	default:
		d.w.Ignored++
	}
	d.w.Final = d.s
	return nil
}

// history records the pins that w changed from old.
func (d *decoder) history(old State, w Write) {
	for i := range d.s {
		a, b := old[i], d.s[i]
		if a.Function != b.Function || a.Latch != b.Latch || a.Pull != b.Pull {
			d.w.History[i] = append(d.w.History[i], Change{Line: w.Line, Time: w.Time, Register: register(w.Offset), Pin: b})
		}
	}
}

// bits calls f on each pin whose bit is set in v: pins 0-31, or 32-53 when high.
func (d *decoder) bits(v uint32, high bool, f func(*Pin)) {
	first := 0
	if high {
		first = 32
	}
	for i := 0; i < 32 && first+i < Pins; i++ {
		if v&(1<<i) != 0 {
			p := &d.s[first+i]
			f(p)
			p.Writes++
		}
	}
}

func setPull(p *Pin, pull vocab.Pull, by string) {
	p.Pull = pull
	p.PullBy = by
	if pull == vocab.PullUnknown {
		p.PullBy = ""
	}
}

const event = "memory_region_ops_write "

// scan calls f on each write to the GPIO block in the trace r, one line at a time.
func scan(r io.Reader, f func(Write) error) error {
	br := bufio.NewReaderSize(r, maxLineBytes)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		long := errors.Is(err, bufio.ErrBufferFull)
		if long {
			// Too long to be a trace event: keep its start to tell whether it
			// claims to be one, and skip the rest.
			line = bytes.Clone(line)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("regwitness: reading the trace at line %d: %w", n, err)
		}
		if len(line) > 0 {
			w, ours, perr := parseLine(string(bytes.TrimRight(line, "\r\n")))
			if ours && long {
				perr = fmt.Errorf("longer than %d KiB", maxLineBytes>>10)
			}
			if perr != nil {
				return fmt.Errorf("regwitness: line %d: GPIO block write does not parse: %v; want QEMU's log backend format, [PID@SECONDS:]memory_region_ops_write cpu N mr 0xP addr 0xA value 0xV size S name '%s' (or '%s')",
					n, perr, Region, Region2711)
			}
			if ours {
				w.Line = n
				if err := f(w); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// parseLine reads one trace line; ours is false for a line that is not a
// memory_region_ops_write of the GPIO block, and err says why one that is does not parse.
func parseLine(s string) (w Write, ours bool, err error) {
	i := strings.Index(s, event)
	if i < 0 || !strings.Contains(s[i:], Region) && !strings.Contains(s[i:], Region2711) {
		return w, false, nil
	}
	prefix, rest := s[:i], s[i+len(event):]
	if prefix != "" && (!strings.HasSuffix(prefix, ":") || !strings.Contains(prefix, "@")) {
		return w, false, nil // another message that mentions the event
	}
	f := strings.Fields(rest)
	keys := [...]string{"cpu", "mr", "addr", "value", "size", "name"}
	if len(f) == 2*len(keys) && f[10] == keys[5] && f[11] != "'"+Region+"'" && f[11] != "'"+Region2711+"'" {
		return w, false, nil // another region whose name contains ours
	}
	w.BCM2711 = len(f) == 2*len(keys) && f[11] == "'"+Region2711+"'"
	ours = true
	if len(f) != 2*len(keys) {
		return w, ours, fmt.Errorf("%d fields after the event name, want %d", len(f), 2*len(keys))
	}
	for k, key := range keys {
		if f[2*k] != key {
			return w, ours, fmt.Errorf("field %d is %q, want %q", k+1, f[2*k], key)
		}
	}
	if prefix != "" {
		at := strings.LastIndex(prefix, "@")
		ts := prefix[at+1 : len(prefix)-1]
		if w.Time, err = strconv.ParseFloat(ts, 64); err != nil || strings.Trim(ts, "0123456789.") != "" {
			return w, ours, fmt.Errorf("timestamp %q is not seconds", ts)
		}
	}
	addr, err := parseHex("addr", f[5], 64)
	if err != nil {
		return w, ours, err
	}
	value, err := parseHex("value", f[7], 32)
	if err != nil {
		return w, ours, err
	}
	size, err := strconv.ParseUint(f[9], 10, 8)
	if err != nil {
		return w, ours, fmt.Errorf("size %q is not a byte count", f[9])
	}
	w.Offset, w.Value, w.Size = uint32(addr&regionMask), uint32(value), int(size)
	return w, ours, nil
}

func parseHex(field, s string, bits int) (uint64, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return 0, fmt.Errorf("%s %q is not 0x-prefixed hex", field, s)
	}
	v, err := strconv.ParseUint(h, 16, bits)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not %d-bit hex", field, s, bits)
	}
	return v, nil
}
