package observe

import (
	"os"
	"testing"
)

func TestState(t *testing.T) {
	all := []string{CanDirection, CanLevel, CanDrive, CanPull, CanOwner}
	for _, tc := range []struct {
		dir, level, drive, pull, want string
	}{
		{Output, "1", Driven, PullUp, "output high driven"},
		{Input, "0", Pulled, PullDown, "input low pulled pull-down"},
		{Input, Unknown, Floating, PullNone, "input floating none"},
		{Input, Unknown, Unknown, Unknown, "input"},
		{Unknown, Unknown, Unknown, Unknown, "unknown"},
	} {
		o := New("c", "l", 0, all, Platform{})
		o.Direction, o.Level, o.Drive, o.Pull = tc.dir, tc.level, tc.drive, tc.pull
		if got := o.State(); got != tc.want {
			t.Errorf("State(%+v) = %q, want %q", tc, got, tc.want)
		}
	}
	if o := New("c", "l", 0, []string{CanDirection}, Platform{}); o.Has(CanLevel) || !o.Has(CanDirection) {
		t.Error("Has should follow Can")
	}
}

func ExampleWriteTable() {
	o := New("gpiohil-a", "GPIO17", 0, []string{CanDirection, CanLevel, CanDrive, CanPull, CanOwner},
		Platform{Kernel: "6.12.117", Bench: "gpio-sim", Driver: "gpio-sim"})
	o.Direction, o.Level, o.Drive, o.Pull, o.Owner = Input, "1", Pulled, PullUp, Free
	WriteTable(os.Stdout, []Observation{o})
	// Output:
	// CHIP       LINE    OFFSET  DIRECTION  LEVEL  DRIVE   PULL     OWNER  CONSUMER
	// gpiohil-a  GPIO17  0       input      1      pulled  pull-up  free   -
	//
	// bench gpio-sim, kernel 6.12.117, driver gpio-sim; sees: direction, level, drive, pull, owner
}
