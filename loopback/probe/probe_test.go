package probe_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/probe"
)

func TestClassifyTheory(t *testing.T) {
	th := probe.Theory(false)
	for _, tc := range []struct {
		pattern string
		want    []probe.Class
	}{
		{"1111", []probe.Class{probe.DrivenHigh, probe.PulledUp}},
		{"0000", []probe.Class{probe.DrivenLow, probe.PulledDown}},
		{"1101", []probe.Class{probe.PulledUp}},
		{"1000", []probe.Class{probe.PulledDown}},
		{"1100", []probe.Class{probe.Floating}},
		{"0101", nil},
	} {
		r := probe.Reads{Up: int(tc.pattern[0] - '0'), AfterUp: int(tc.pattern[1] - '0'), Down: int(tc.pattern[2] - '0'), AfterDown: int(tc.pattern[3] - '0')}
		res := probe.Classify(r, th)
		if !slices.Equal(res.Candidates, tc.want) {
			t.Errorf("%s: candidates %v; want %v", tc.pattern, res.Candidates, tc.want)
		}
		if res.Ambiguous() != (len(tc.want) > 1) || res.Unexplained() != (len(tc.want) == 0) || (len(tc.want) == 1) != (res.Class != "") {
			t.Errorf("%s: class %q ambiguous %v unexplained %v", tc.pattern, res.Class, res.Ambiguous(), res.Unexplained())
		}
	}
	// A fixed pull-up hides every state but driven low.
	res := probe.Classify(probe.Reads{Up: 1, AfterUp: 1, Down: 1, AfterDown: 1}, probe.Theory(true))
	if len(res.Candidates) != 4 {
		t.Errorf("fixed pull-up, 1111: %v; want four candidates", res.Candidates)
	}
}

// fakePartner is a partner on a wire whose pin under test is in a fixed state; mid-rail reads
// as mid.
type fakePartner struct {
	pin   probe.Class
	mid   int
	bias  vocab.Bias
	level int
	log   []string
	fail  error
}

func (f *fakePartner) Input(bias vocab.Bias) error {
	if f.fail != nil {
		return f.fail
	}
	f.bias = bias
	f.log = append(f.log, string(bias))
	return nil
}

func (f *fakePartner) Settle() error {
	switch {
	case f.pin == probe.DrivenHigh:
		f.level = 1
	case f.pin == probe.DrivenLow:
		f.level = 0
	case f.pin == probe.PulledUp && f.bias == vocab.BiasPullDown, f.pin == probe.PulledDown && f.bias == vocab.BiasPullUp:
		f.level = f.mid
	case f.pin == probe.PulledUp:
		f.level = 1
	case f.pin == probe.PulledDown:
		f.level = 0
	case f.bias == vocab.BiasPullUp:
		f.level = 1
	case f.bias == vocab.BiasPullDown:
		f.level = 0
	}
	return nil
}

func (f *fakePartner) Read() (int, error) { return f.level, nil }

func TestProbe(t *testing.T) {
	for _, c := range probe.Classes {
		for _, mid := range []int{0, 1} {
			f := &fakePartner{pin: c, mid: mid, level: 1}
			res, err := probe.Probe(f, f, probe.Theory(false))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(res.Candidates, c) {
				t.Errorf("%s (mid-rail %d): candidates %v", c, mid, res.Candidates)
			}
			if f.bias != vocab.BiasDisabled {
				t.Errorf("%s: partner left with bias %s; want disabled", c, f.bias)
			}
			if c == probe.Floating && f.level != 1 {
				t.Errorf("floating wire found at 1 was left at %d", f.level)
			}
		}
	}
	f := &fakePartner{pin: probe.Floating, fail: errors.New("boom")}
	if _, err := probe.Probe(f, f, probe.Theory(false)); err == nil {
		t.Error("a failing partner gave no error")
	}
}
