package onbench_test

import (
	"bufio"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/sim"
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
	if l := next("the header"); !strings.Contains(l, "watching obs-1 on "+c.Name+" [obs]") {
		t.Errorf("header %q", l)
	}
	if l := next("the state now"); !regexp.MustCompile(`^obs-1 +now +input +bias as-is +free$`).MatchString(l) {
		t.Errorf("state now: %q; want obs-1 free, an input", l)
	}

	// What the watch must report: a request as an output with a pull-up, a change to an input,
	// a release.
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
	for _, want := range []string{
		`^obs-1 +\+(\d+\.\d{6}) s +requested +output +pull-up +used by "watch-test"$`,
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
		if at <= 0 || at < last || at > 6 {
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
}

// A line the chip does not have is exit 1, naming the chip and lines it does have.
func TestWatchUnknownLine(t *testing.T) {
	bin := gpiohilBin(t)
	code, _, errs := run(t, bin, 0, "watch", "--for", "1s", "obs", "obs-9")
	if code != 1 || !strings.Contains(errs, `no line "obs-9"`) || !strings.Contains(errs, "obs-0, obs-1") {
		t.Errorf("gpiohil watch obs obs-9: exit %d, stderr %q; want exit 1 naming the lines there are", code, errs)
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
}
