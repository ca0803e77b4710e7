package probe_test

import (
	"fmt"

	"github.com/gpiohil/gpiohil/loopback/probe"
)

func ExampleClassify() {
	// Reads from the partner: pull-up 1, released 1, pull-down 0, released 0. The wire kept
	// whatever the last pull left: nothing holds it.
	res := probe.Classify(probe.Reads{Up: 1, AfterUp: 1, Down: 0, AfterDown: 0}, probe.Theory(false))
	fmt.Println(res.Class)
	// All high: a driver, or a pull-up against the partner's pull-down that read high.
	res = probe.Classify(probe.Reads{AsFound: 1, Up: 1, AfterUp: 1, Down: 1, AfterDown: 1}, probe.Theory(false))
	fmt.Println(res.Ambiguous(), res.Candidates)
	// With the pair's calibrated signatures (this board reads that mid-rail as 0), it is exact.
	sig := probe.Signatures{probe.DrivenHigh: {"1111"}, probe.PulledUp: {"1101"}, probe.DrivenLow: {"0000"}, probe.PulledDown: {"0000"}, probe.Floating: {"1100"}}
	res = probe.Classify(probe.Reads{AsFound: 1, Up: 1, AfterUp: 1, Down: 1, AfterDown: 1}, sig)
	fmt.Println(res.Class)
	// Output:
	// floating
	// true [driven high pulled up]
	// driven high
}
