package emulatedpi_test

import (
	"errors"
	"testing"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The lines the tests use: BCM GPIO 17 and 27, header pins 11 and 13.
const (
	dutName   = "GPIO17"
	otherName = "GPIO27"
)

// newBench opens the bench and restores every line it touched when the test ends.
func newBench(t *testing.T) *bench.EmulatedPi {
	t.Helper()
	b, err := bench.NewEmulatedPi()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bench: %v", err)
		}
	})
	return b
}

func line(t *testing.T, b bench.Bench, name string) bench.Line {
	t.Helper()
	l, err := b.Line(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func observeOK(t *testing.T, b bench.Bench, l bench.Line) observe.Observation {
	t.Helper()
	o, err := b.Observe(l)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// hold requests l in this process and releases it when the test ends.
func hold(t *testing.T, l bench.Line, opts ...gpiocdev.LineReqOption) {
	t.Helper()
	req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, append(opts, gpiocdev.WithConsumer("gpiohil-test"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { req.Close() })
}

func TestBenchFacts(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := newBench(t)
		l := line(t, b, dutName)
		if l.Chip != bench.BCM2835Label || l.Offset != 17 || l.Name != "GPIO17" {
			t.Errorf("GPIO17 found as %+v, want offset 17 of %s", l, bench.BCM2835Label)
		}
		if byName, byNumber := line(t, b, "SPI_CE0_N"), line(t, b, "GPIO8"); byName != byNumber || byName.Offset != 8 {
			t.Errorf("SPI_CE0_N is %v and GPIO8 is %v, want both offset 8", byName, byNumber)
		}
		if n := len(b.Lines()); n != 24 {
			t.Errorf("bench has %d lines, want 24 (GPIO 2 to 13 and 16 to 27)", n)
		}
		o := observeOK(t, b, l)
		if o.Can != vocab.See(vocab.FieldDirection, vocab.FieldOwner, vocab.FieldReleasedDirection, vocab.FieldReleasedBias) {
			t.Errorf("Can = %v, want direction, owner and how a request released the line only", o.Can)
		}
		p := o.Platform
		if p.Bench != rpi3.BenchKind || p.Driver != bench.BCM2835Driver || p.Persist != lane.ParamValue() {
			t.Errorf("platform %+v, want bench %s, driver %s, persist_gpio_outputs %s", p, rpi3.BenchKind, bench.BCM2835Driver, lane.ParamValue())
		}
		if b.Kind() != rpi3.BenchKind {
			t.Errorf("Kind() = %s, want %s", b.Kind(), rpi3.BenchKind)
		}
	})
}

func TestBenchRefusesReservedLines(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := newBench(t)
		for _, name := range []string{"GPIO0", "ID_SDA", "GPIO1", "GPIO14", "TXD1", "GPIO15", "RXD1",
			"GPIO32", "GPIO43", "GPIO48", "SD_CLK_R", "GPIO49", "GPIO50", "GPIO51", "GPIO52", "GPIO53"} {
			if l, err := b.Line(name); !errors.Is(err, bench.ErrReserved) {
				t.Errorf("Line(%s) = %v, %v; want ErrReserved", name, l, err)
			}
		}
		if _, err := b.Line("NO_SUCH_LINE"); !errors.Is(err, bench.ErrNoLine) {
			t.Errorf("Line(NO_SUCH_LINE): %v, want ErrNoLine", err)
		}
		for _, n := range []int{0, 1, 14, 15, 48, 53} {
			l := bench.Line{Chip: bench.BCM2835Label, ChipName: line(t, b, dutName).ChipName, Name: "forged", Offset: n}
			if err := b.Prepare(l, bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}); !errors.Is(err, bench.ErrReserved) {
				t.Errorf("Prepare(GPIO %d) = %v, want ErrReserved", n, err)
			}
			if err := b.Restore(l); !errors.Is(err, bench.ErrReserved) {
				t.Errorf("Restore(GPIO %d) = %v, want ErrReserved", n, err)
			}
		}
	})
}

func TestObserveHeldLines(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := newBench(t)
		out, in := line(t, b, dutName), line(t, b, otherName)
		hold(t, out, gpiocdev.AsOutput(1))
		hold(t, in, gpiocdev.AsInput)
		for i := 0; i < 3; i++ { // observing again sees the same: it does not disturb
			o := observeOK(t, b, out)
			if o.Direction != vocab.Output || o.Owner != vocab.Used || o.Consumer != "gpiohil-test" {
				t.Errorf("held output, observation %d: %s owner %s %q, want output used by gpiohil-test; evidence %v", i, o.Direction, o.Owner, o.Consumer, o.Evidence)
			}
			if o.Level != observe.Unknown || o.Pull != observe.Unknown || o.Drive != observe.Unknown {
				t.Errorf("level %s, pull %s, drive %s: this emulator shows none of them, want unknown", o.Level, o.Pull, o.Drive)
			}
			o = observeOK(t, b, in)
			if o.Direction != vocab.Input || o.Owner != vocab.Used {
				t.Errorf("held input, observation %d: %s owner %s, want input used", i, o.Direction, o.Owner)
			}
		}
	})
}

func TestObservePreparedLines(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := newBench(t)
		l := line(t, b, dutName)
		if err := b.Prepare(l, bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp}); err != nil {
			t.Fatal(err)
		}
		if o := observeOK(t, b, l); o.Direction != vocab.Input || o.Owner != vocab.Free {
			t.Errorf("after preparing input pull-up: %s owner %s, want input free", o.Direction, o.Owner)
		}
		if err := b.Prepare(l, bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}); err != nil {
			t.Fatal(err)
		}
		want := vocab.Input // the release reset the output
		if lane.Persist {
			want = vocab.Output
		}
		for i := 0; i < 3; i++ { // observing never requests the line, so it never resets it
			if o := observeOK(t, b, l); o.Direction != want || o.Owner != vocab.Free {
				t.Errorf("after preparing output high, observation %d: %s owner %s, want %s free; evidence %v", i, o.Direction, o.Owner, want, o.Evidence)
			}
		}
		if err := b.Restore(l); err != nil {
			t.Fatal(err)
		}
		if o := observeOK(t, b, l); o.Direction != vocab.Input {
			t.Errorf("after Restore: %s, want input", o.Direction)
		}
	})
}
