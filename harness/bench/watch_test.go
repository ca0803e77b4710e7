package bench_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The witness of a release, from known sequences: what the kernel's line-info events say of
// a request that ended, on the real gpio-sim chips of the VM.
func TestLineWatchWitnessesHowALineWasReleased(t *testing.T) {
	b := newBench(t)
	for _, tc := range []struct {
		name   string
		do     func(t *testing.T, l bench.Line)
		kinds  string // the changes seen, in order
		dir    vocab.Direction
		bias   vocab.Bias
		remark string
	}{
		{"an output released as it is", func(t *testing.T, l bench.Line) {
			req := request(t, l, gpiocdev.AsOutput(1), gpiocdev.WithPullUp)
			req.Close()
		}, "requested released", vocab.Output, vocab.BiasPullUp, "the release keeps the direction, the request gives the bias"},
		{"a cleanup: reconfigured to input without bias, then released", func(t *testing.T, l bench.Line) {
			req := request(t, l, gpiocdev.AsOutput(1), gpiocdev.WithPullUp)
			if err := req.Reconfigure(gpiocdev.AsInput, gpiocdev.WithBiasDisabled); err != nil {
				t.Fatal(err)
			}
			req.Close()
		}, "requested reconfigured released", vocab.Input, vocab.BiasDisabled, "the last configuration before the release counts"},
		{"an input as is", func(t *testing.T, l bench.Line) {
			req := request(t, l, gpiocdev.AsInput)
			req.Close()
		}, "requested released", vocab.Input, vocab.BiasAsIs, ""},
		{"a sysfs export and unexport", func(t *testing.T, l bench.Line) {
			n := sysfsNumber(t, l)
			write(t, "/sys/class/gpio/export", n)
			write(t, "/sys/class/gpio/gpio"+n+"/direction", "out")
			write(t, "/sys/class/gpio/gpio"+n+"/direction", "in")
			write(t, "/sys/class/gpio/unexport", n)
		}, "released", vocab.Input, vocab.BiasUnknown, "a kernel-made request raises no event, and a direction set through sysfs neither: only the release shows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := line(t, b, "a5")
			t.Cleanup(func() { b.Restore(l) })
			w, err := bench.WatchLine(l)
			if err != nil {
				t.Fatal(err)
			}
			tc.do(t, l)
			cs, err := w.Stop()
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, c := range cs {
				kinds = append(kinds, c.Kind.String())
			}
			if got := strings.Join(kinds, " "); got != tc.kinds {
				t.Fatalf("changes %v; want %s", cs, tc.kinds)
			}
			dir, bias, ok := cs.Release()
			if !ok || dir != tc.dir || bias != tc.bias {
				t.Errorf("released as %s %s (%v); want %s %s: %s", dir, bias, ok, tc.dir, tc.bias, tc.remark)
			}
			for i := 1; i < len(cs); i++ {
				if cs[i].At < cs[i-1].At {
					t.Errorf("kernel timestamps out of order: %v", cs)
				}
			}
		})
	}
}

// A line nobody requests shows no change, and Stop does not wait for one; a line still held
// when the watch stops shows its request and no release.
func TestLineWatchWithoutARelease(t *testing.T) {
	b := newBench(t)
	l := line(t, b, "a5")
	w, err := bench.WatchLine(l)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cs, err := w.Stop()
	if err != nil || len(cs) != 0 {
		t.Fatalf("untouched line: %v, %v; want no changes", cs, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v on a line nobody touched; it should not wait for a release", d)
	}
	if _, _, ok := cs.Release(); ok {
		t.Error("no release without changes")
	}
	w, err = bench.WatchLine(l)
	if err != nil {
		t.Fatal(err)
	}
	req := request(t, l, gpiocdev.AsOutput(0))
	defer req.Close()
	select {
	case <-w.Held():
	case <-time.After(5 * time.Second):
		t.Fatal("a line held for 5 s was never seen held")
	}
	cs, err = w.Stop()
	if err != nil || len(cs) != 1 || cs[0].Kind != bench.Requested || cs[0].Consumer != "watch-test" || cs[0].Direction != vocab.Output {
		t.Fatalf("held line: %v, %v; want one request by watch-test as an output", cs, err)
	}
	if _, _, ok := cs.Release(); ok {
		t.Error("a held line was not released")
	}
}

// Release, from change lists as the kernel gives them.
func TestChangesRelease(t *testing.T) {
	req := func(d vocab.Direction, b vocab.Bias) bench.Change {
		return bench.Change{Kind: bench.Requested, Direction: d, Bias: b}
	}
	rel := func(d vocab.Direction) bench.Change {
		return bench.Change{Kind: bench.Released, Direction: d, Bias: vocab.BiasAsIs}
	}
	for _, tc := range []struct {
		name string
		cs   bench.Changes
		dir  vocab.Direction
		bias vocab.Bias
		ok   bool
	}{
		{"none", nil, vocab.DirectionUnknown, vocab.BiasAsIs, false},
		{"held", bench.Changes{req(vocab.Output, vocab.BiasPullUp)}, vocab.DirectionUnknown, vocab.BiasAsIs, false},
		{"released", bench.Changes{req(vocab.Output, vocab.BiasPullUp), rel(vocab.Output)}, vocab.Output, vocab.BiasPullUp, true},
		{"the last of two", bench.Changes{req(vocab.Output, vocab.BiasPullUp), rel(vocab.Output), req(vocab.Input, vocab.BiasDisabled), rel(vocab.Input)}, vocab.Input, vocab.BiasDisabled, true},
		{"a release whose request came before the watch", bench.Changes{rel(vocab.Output)}, vocab.Output, vocab.BiasUnknown, true},
		{"a second release without its request", bench.Changes{req(vocab.Output, vocab.BiasPullUp), rel(vocab.Output), rel(vocab.Input)}, vocab.Input, vocab.BiasUnknown, true},
	} {
		dir, bias, ok := tc.cs.Release()
		if dir != tc.dir || bias != tc.bias || ok != tc.ok {
			t.Errorf("%s: %s %s %v; want %s %s %v", tc.name, dir, bias, ok, tc.dir, tc.bias, tc.ok)
		}
	}
}

func request(t *testing.T, l bench.Line, opts ...gpiocdev.LineReqOption) *gpiocdev.Line {
	t.Helper()
	req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, append(opts, gpiocdev.WithConsumer("watch-test"))...)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func sysfsNumber(t *testing.T, l bench.Line) string {
	t.Helper()
	base, err := bench.SysfsBase(l.Chip)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(base + l.Offset)
}

func write(t *testing.T, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		t.Fatal(err)
	}
}
