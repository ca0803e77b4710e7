package onbench_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/jumper"
)

// gpiohil watch, run as a user would, prints a line's state when it starts, then each request,
// reconfiguration and release with its time, and ends after --for with exit 0. What it
// prints must follow what the test does to the line, in order, and nothing else.
func TestWatchCommand(t *testing.T) {
	bin := gpiohilBin(t)
	c, err := sim.ChipFromEnv("obs")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "watch", "--for", "6s", "obs", "obs-1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("gpiohil watch ended before %s (stderr %q)", what, stderr.String())
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("no line for %s within 10 s", what)
		}
		return ""
	}
	if l := next("the header"); !strings.Contains(l, "watching obs-1 on "+c.Name+" [obs]") || !strings.Contains(l, "(gpio trace)") {
		t.Errorf("header %q; want the line and its chip, and the gpio trace among the sources", l)
	}
	if l := next("the state now"); !regexp.MustCompile(`^obs-1 +now +input +bias as-is +free$`).MatchString(l) {
		t.Errorf("state now: %q; want obs-1 free, an input", l)
	}

	// What the watch must report: a request as an output with a pull-up, a change to an input,
	// a release; and from gpiolib's trace, the level and direction it set for each.
	ch, err := gpiocdev.NewChip(c.Name, gpiocdev.WithConsumer("watch-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	l, err := ch.RequestLine(1, gpiocdev.AsOutput(1), gpiocdev.WithPullUp)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := l.Reconfigure(gpiocdev.AsInput); err != nil {
		t.Fatal(err)
	}
	l.Close()

	var last float64
	// gpiolib sets an output's value, then its direction, before line info says it was
	// requested; a moment of one clock tick keeps that order.
	for _, want := range []string{
		`^obs-1 +\+(\d+\.\d{6}) s +set +high \(gpiolib\)$`,
		`^obs-1 +\+(\d+\.\d{6}) s +direction +output \(gpiolib\)$`,
		`^obs-1 +\+(\d+\.\d{6}) s +requested +output +pull-up +used by "watch-test"$`,
		`^obs-1 +\+(\d+\.\d{6}) s +direction +input \(gpiolib\)$`,
		`^obs-1 +\+(\d+\.\d{6}) s +reconfigured +input +pull-up +used by "watch-test"$`,
		`^obs-1 +\+(\d+\.\d{6}) s +released +input +bias as-is +free$`,
	} {
		got := next(want)
		m := regexp.MustCompile(want).FindStringSubmatch(got)
		if m == nil {
			t.Errorf("got %q; want a line matching %s", got, want)
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		if at <= 0 || at < last-onbench.SameInstant.Seconds() || at > 6 {
			t.Errorf("%q: time %v s after %v s; want increasing times within the watch's 6 s", got, at, last)
		}
		last = at
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("gpiohil watch --for 6s: %v (stderr %q); want exit 0", err, stderr.String())
	}
	for l := range lines {
		t.Errorf("a line nothing caused: %q", l)
	}
	traceOff(t)
}

// traceOff fails the test unless gpiolib's trace events are off: a watch switches them off
// when it ends.
func traceOff(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bench.Tracefs, "events/gpio/enable"))
	if err != nil {
		t.Fatalf("read the trace's switch: %v", err)
	}
	if strings.TrimSpace(string(b)) != "0" {
		t.Errorf("gpiolib's trace events are still on (%q) after the watch ended", b)
	}
}

// A line the chip does not have is bad input, exit 2, naming the chip and lines it does have.
func TestWatchUnknownLine(t *testing.T) {
	bin := gpiohilBin(t)
	code, _, errs := run(t, bin, 0, "watch", "--for", "1s", "obs", "obs-9")
	if code != 2 || !strings.Contains(errs, `no line "obs-9"`) || !strings.Contains(errs, "obs-0, obs-1") {
		t.Errorf("gpiohil watch obs obs-9: exit %d, stderr %q; want exit 2 naming the lines there are", code, errs)
	}
}

// Without --for, gpiohil watch runs until interrupted; Ctrl-C (SIGINT) is its normal end: exit 0.
func TestWatchEndsOnCtrlC(t *testing.T) {
	bin := gpiohilBin(t)
	cmd := exec.Command(bin, "watch", "obs", "obs-0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for i := 0; i < 2 && sc.Scan(); i++ { // the header and the state now: it is watching
	}
	if !strings.Contains(sc.Text(), "obs-0") {
		t.Fatalf("gpiohil watch printed %q before Ctrl-C; want the line's state", sc.Text())
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("gpiohil watch after SIGINT: %v; want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("gpiohil watch still running %v after SIGINT", time.Since(start))
	}
	traceOff(t)
}

// With a rig, the watch also shows the wire's edges at the partner: a tool drives GPIO17 high
// with a pull-down and releases it; the partner GPIO18 sees the wire rise, then fall as the
// pull-down takes over, in time order with line info and the trace. The partner is put back.
func TestWatchRig(t *testing.T) {
	r, opt := simRig(t, jumper.MidRailLow)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- onbench.Watch(ctx, onbench.Request{Rig: r, Loopback: opt, Args: []string{"GPIO17"}}, 0, &out)
	}()
	time.Sleep(500 * time.Millisecond) // the watch is set up
	c, err := sim.ChipFromEnv(piLabel)
	if err != nil {
		t.Fatal(err)
	}
	l, err := gpiocdev.RequestLine(c.Name, slices.Index(c.Lines, "GPIO17"), gpiocdev.AsOutput(1), gpiocdev.WithPullDown, gpiocdev.WithConsumer("tool"))
	if err != nil {
		t.Fatal(err)
	}
	opt.Settler.Settle()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	opt.Settler.Settle()
	time.Sleep(200 * time.Millisecond) // the edge's event, and one batch
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	// What each printed line says, and when.
	type event struct {
		what string
		at   float64
	}
	var got []event
	last := 0.0
	for _, line := range strings.Split(out.String(), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] == "now" {
			continue
		}
		at, _ := strconv.ParseFloat(strings.TrimPrefix(f[1], "+"), 64)
		if at < last-onbench.SameInstant.Seconds() {
			t.Errorf("%q comes after an event at +%f s: want time order", line, last)
		}
		last = max(last, at)
		got = append(got, event{f[3] + " " + f[4], at})
	}
	find := func(what string) (int, float64) {
		for i, e := range got {
			if e.what == what {
				return i, e.at
			}
		}
		t.Errorf("the watch printed no %q: %v", what, got)
		return -1, 0
	}
	order := []string{"set high", "direction output", "requested output", "released output"}
	prev := -1
	for _, w := range order {
		if i, _ := find(w); i < prev {
			t.Errorf("the watch printed %v; want %q in this order", got, order)
		} else {
			prev = i
		}
	}
	// The partner's edges come after the changes they follow: on the simulated wire after
	// the line-info event the wire acts on, on a board within microseconds of the change. On a
	// clock of 4 ms ticks (the VM's kernel on a busy host) an edge and its cause can share a
	// tick, and then print in either order.
	_, set := find("set high")
	_, released := find("released output")
	_, rise := find("edge rising:")
	_, fall := find("edge falling:")
	tol := onbench.SameInstant.Seconds()
	if rise < set-tol || rise > released || fall < released-tol {
		t.Errorf("the watch printed %v; want the partner's rising edge while the tool held the line, its falling edge after the release", got)
	}
	if !strings.Contains(out.String(), "partner GPIO18") {
		t.Errorf("the edges do not name the partner:\n%s", out.String())
	}
	traceOff(t)
	if obs := observeRig(t, r, opt, onbench.Rig); obs.Owner != vocab.Free {
		t.Errorf("after the watch GPIO17 is %s; want free", obs.Owner)
	}
}
