package trial_test

import (
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// What the witness records from a line's changes, including the one way it can be wrong: a
// release the watch did not see is unknown, said in the evidence, never "none".
func TestWitness(t *testing.T) {
	requested := bench.Change{Kind: bench.Requested, Direction: vocab.Output, Bias: vocab.BiasPullUp, Consumer: "tool"}
	released := bench.Change{Kind: bench.Released, Direction: vocab.Output, Bias: vocab.BiasAsIs}
	can := vocab.See(vocab.Fields...)
	for _, tc := range []struct {
		name     string
		owner    vocab.Owner
		cs       bench.Changes
		dir      vocab.Direction
		bias     vocab.Bias
		seesBias bool
		evidence string
	}{
		{"released", vocab.Free, bench.Changes{requested, released}, vocab.Output, vocab.BiasPullUp, true, `requested output pull-up by "tool", released output as-is`},
		{"never requested: a tool that writes the registers", vocab.Free, nil, vocab.NotReleased, vocab.BiasUnknown, true, "while the tool ran: none"},
		{"still held: a sysfs export", vocab.Used, bench.Changes{requested}, vocab.NotReleased, vocab.BiasUnknown, true, ""},
		{"requested, free, no release seen: missed", vocab.Free, bench.Changes{requested}, vocab.DirectionUnknown, vocab.BiasUnknown, true, "the watch missed an event"},
		{"released without its request", vocab.Free, bench.Changes{released}, vocab.Output, vocab.BiasUnknown, false, "its bias is not visible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := observe.New("chip", "dut", 0, can, observe.Platform{})
			o.Owner = tc.owner
			trial.Witness(&o, tc.cs)
			if o.ReleasedDirection != tc.dir || o.ReleasedBias != tc.bias {
				t.Errorf("released %s %s; want %s %s", o.ReleasedDirection, o.ReleasedBias, tc.dir, tc.bias)
			}
			if o.Has(vocab.FieldReleasedBias) != tc.seesBias {
				t.Errorf("sees the released bias: %v, want %v", o.Has(vocab.FieldReleasedBias), tc.seesBias)
			}
			if ev := strings.Join(o.Evidence, "; "); !strings.Contains(ev, tc.evidence) {
				t.Errorf("evidence %q; want it to say %q", ev, tc.evidence)
			}
		})
	}
}
