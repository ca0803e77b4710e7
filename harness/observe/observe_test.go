package observe

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

var all = vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner)

func TestState(t *testing.T) {
	for _, tc := range []struct {
		dir   vocab.Direction
		level vocab.Level
		drive vocab.Drive
		pull  vocab.Pull
		want  string
	}{
		{vocab.Output, vocab.High, vocab.Driven, vocab.PullUp, "output high driven"},
		{vocab.Input, vocab.Low, vocab.Pulled, vocab.PullDown, "input low pulled pull-down"},
		{vocab.Input, vocab.LevelUnknown, vocab.Floating, vocab.PullNone, "input floating none"},
		{vocab.Input, vocab.LevelUnknown, vocab.DriveUnknown, vocab.PullUnknown, "input"},
		{vocab.DirectionUnknown, vocab.LevelUnknown, vocab.DriveUnknown, vocab.PullUnknown, "unknown"},
	} {
		o := New("c", "l", 0, all, Platform{})
		o.Direction, o.Level, o.Drive, o.Pull = tc.dir, tc.level, tc.drive, tc.pull
		if got := o.State(); got != tc.want {
			t.Errorf("State(%+v) = %q, want %q", tc, got, tc.want)
		}
	}
	if o := New("c", "l", 0, vocab.See(vocab.FieldDirection), Platform{}); o.Has(vocab.FieldLevel) || !o.Has(vocab.FieldDirection) {
		t.Error("Has should follow Can")
	}
}

// The JSON of an observation keeps the words it had when its fields were plain strings, so
// evidence written by older gpiohil runs still reads.
func TestJSONWords(t *testing.T) {
	o := New("gpiohil-a", "GPIO17", 3, all, Platform{Kernel: "6.12", Bench: vocab.KindGPIOSim, Driver: "gpio-sim", Persist: vocab.PersistOff})
	o.Direction, o.Level, o.Drive, o.Pull, o.Owner, o.Consumer = vocab.Output, vocab.High, vocab.Driven, vocab.PullNone, vocab.Used, "gpioset"
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"chip":"gpiohil-a","line":"GPIO17","offset":3,"direction":"output","level":"1","drive":"driven","pull":"none","owner":"used","consumer":"gpioset","can":["direction","level","drive","pull","owner"],"evidence":null,"platform":{"kernel":"6.12","bench":"gpio-sim","driver":"gpio-sim","persist":"N"}}`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant\n%s", b, want)
	}
	var back Observation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.State() != o.State() || back.Can != o.Can || back.Consumer != o.Consumer || back.Platform != o.Platform {
		t.Errorf("read back %+v, want %+v", back, o)
	}
	if err := json.Unmarshal([]byte(strings.Replace(string(b), `"owner"]`, `"smell"]`, 1)), &back); err == nil {
		t.Error("an unknown capability should not read")
	}
}

func TestValue(t *testing.T) {
	o := New("c", "l", 0, all, Platform{})
	o.Direction, o.Level, o.Drive, o.Pull, o.Owner, o.Consumer = vocab.Input, vocab.Low, vocab.Pulled, vocab.PullDown, vocab.Used, "x"
	o.ReleasedDirection, o.ReleasedBias = vocab.Output, vocab.BiasPullUp
	want := map[vocab.Field]string{vocab.FieldDirection: "input", vocab.FieldLevel: "0", vocab.FieldDrive: "pulled",
		vocab.FieldPull: "pull-down", vocab.FieldOwner: "used", vocab.FieldConsumer: "x",
		vocab.FieldReleasedDirection: "output", vocab.FieldReleasedBias: "pull-up"}
	for _, f := range vocab.Fields {
		if got := o.Value(f); got != want[f] {
			t.Errorf("Value(%s) = %q, want %q", f, got, want[f])
		}
	}
	if n := New("c", "l", 0, all, Platform{}); n.Value(vocab.FieldReleasedDirection) != Unknown {
		t.Errorf("an unwitnessed release is %q, want unknown", n.Value(vocab.FieldReleasedDirection))
	}
}

func ExampleWriteTable() {
	o := New("gpiohil-a", "GPIO17", 0, all, Platform{Kernel: "6.12.117", Bench: vocab.KindGPIOSim, Driver: "gpio-sim"})
	o.Direction, o.Level, o.Drive, o.Pull, o.Owner = vocab.Input, vocab.High, vocab.Pulled, vocab.PullUp, vocab.Free
	WriteTable(os.Stdout, []Observation{o})
	// Output:
	// CHIP       LINE    OFFSET  DIRECTION  LEVEL  DRIVE   PULL     OWNER  CONSUMER
	// gpiohil-a  GPIO17  0       input      1      pulled  pull-up  free   -
	//
	// bench gpio-sim, kernel 6.12.117, driver gpio-sim; sees: direction, level, drive, pull, owner
}

func TestSummarySaysHowTheLineWasReleased(t *testing.T) {
	o := New("c", "l", 0, all, Platform{})
	o.Direction, o.Level, o.Drive, o.Pull = vocab.Input, vocab.Low, vocab.Pulled, vocab.PullDown
	for _, tc := range []struct {
		dir  vocab.Direction
		bias vocab.Bias
		want string
	}{
		{"", "", "input low pulled pull-down"},
		{vocab.Output, vocab.BiasPullUp, "input low pulled pull-down, released as output pull-up"},
		{vocab.Input, vocab.BiasAsIs, "input low pulled pull-down, released as input"},
		{vocab.Input, vocab.BiasUnknown, "input low pulled pull-down, released as input"},
		{vocab.NotReleased, vocab.BiasUnknown, "input low pulled pull-down"},
	} {
		o.ReleasedDirection, o.ReleasedBias = tc.dir, tc.bias
		if got := o.Summary(); got != tc.want {
			t.Errorf("released %s %s: %q, want %q", tc.dir, tc.bias, got, tc.want)
		}
		if o.State() != "input low pulled pull-down" {
			t.Errorf("State %q should not change with how the line was released", o.State())
		}
	}
}
