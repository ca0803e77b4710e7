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
	var back Facts
	for _, f := range vocab.Fields {
		if got := o.Value(f); got != want[f] {
			t.Errorf("Value(%s) = %q, want %q", f, got, want[f])
		}
		back.Set(f, want[f])
	}
	if back != o.Facts {
		t.Errorf("Set of every Value = %+v, want %+v", back, o.Facts)
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

// Every unknown state field gets a reason: the bench's own, or why the bench left it open.
func TestExplainUnknown(t *testing.T) {
	o := New("c", "l", 0, vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldOwner), Platform{Bench: vocab.KindVMRPi3})
	o.Direction, o.Owner = vocab.Output, vocab.Free
	o.Unknownf(vocab.FieldPull, "no pulls in %s", "QEMU")
	o.ExplainUnknown()
	want := map[vocab.Field]string{
		vocab.FieldLevel: "the evidence did not settle it",
		vocab.FieldDrive: "bench vm-rpi3 cannot see it",
		vocab.FieldPull:  "no pulls in QEMU",
	}
	if len(o.WhyUnknown) != len(want) {
		t.Errorf("WhyUnknown = %v, want %v", o.WhyUnknown, want)
	}
	for f, w := range want {
		if o.WhyUnknown[f] != w {
			t.Errorf("why %s is unknown: %q, want %q", f, o.WhyUnknown[f], w)
		}
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"why-unknown":{"drive":"bench vm-rpi3 cannot see it","level":"the evidence did not settle it","pull":"no pulls in QEMU"}`) {
		t.Errorf("JSON lacks the reasons: %s", b)
	}
}

// The table says under it why fields are unknown, once per reason, naming fields and lines.
func TestWriteTableSaysWhyFieldsAreUnknown(t *testing.T) {
	p := Platform{Kernel: "6.12", Bench: vocab.KindVMRPi3, Driver: "pinctrl-bcm2835", Persist: vocab.PersistOff}
	can := vocab.See(vocab.FieldDirection, vocab.FieldOwner)
	var obs []Observation
	for i, name := range []string{"GPIO17", "GPIO27"} {
		o := New("pinctrl-bcm2835", name, 17+10*i, can, p)
		o.Direction, o.Owner = vocab.Input, vocab.Free
		o.Unknownf(vocab.FieldLevel, "no levels")
		o.Unknownf(vocab.FieldDrive, "no levels")
		o.Unknownf(vocab.FieldPull, "no pulls")
		obs = append(obs, o)
	}
	var b strings.Builder
	if err := WriteTable(&b, obs); err != nil {
		t.Fatal(err)
	}
	want := `CHIP             LINE    OFFSET  DIRECTION  LEVEL    DRIVE    PULL     OWNER  CONSUMER
pinctrl-bcm2835  GPIO17  17      input      unknown  unknown  unknown  free   -
pinctrl-bcm2835  GPIO27  27      input      unknown  unknown  unknown  free   -

bench vm-rpi3, kernel 6.12, driver pinctrl-bcm2835, persist_gpio_outputs N; sees: direction, owner
unknown level, drive (GPIO17, GPIO27): no levels
unknown pull (GPIO17, GPIO27): no pulls
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}
}
