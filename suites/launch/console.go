package launch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// ProgressEvery is how often the progress line is printed when the output is not a terminal
// (a CI log): often enough to show the run is alive, rare enough to keep the log short.
const ProgressEvery = 10 * time.Second

// Console is where gpiohil run reports as it goes. By default it prints one progress line per
// lane (specs done of all, passed, failed, skipped, elapsed, time left), redrawn in place on a
// terminal and printed every ProgressEvery otherwise (less often as a run grows long); each
// failure and infrastructure error in full as it happens; and a line per lane when it ends. With Verbose it prints the suites'
// whole stream instead, as they write it. The whole stream always goes to Log.
type Console struct {
	Out     io.Writer // the terminal or CI log
	Log     io.Writer // every line the suites write; nil discards them
	Verbose bool
	TTY     bool // redraw the progress line in place
	// GitHub prints a failure as a GitHub Actions error annotation too (GITHUB_ACTIONS=true).
	GitHub bool

	mu      sync.Mutex
	drawn   bool // a progress line is on the terminal, to be redrawn
	lastAt  time.Time
	started time.Time // the first progress line
	printed string    // the counts of the last progress line printed (not redrawn)
}

// NewConsole returns a console on out, logging to log, that redraws when out is a terminal.
func NewConsole(out, log io.Writer, verbose bool) *Console {
	c := &Console{Out: out, Log: log, Verbose: verbose, GitHub: os.Getenv("GITHUB_ACTIONS") == "true"}
	if f, ok := out.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		c.TTY = err == nil
	}
	return c
}

// Printf prints a line of gpiohil's own on the console and in the log.
func (c *Console) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	c.clear()
	fmt.Fprintln(c.out(), line)
	if c.Log != nil {
		fmt.Fprintln(c.Log, line)
	}
}

func (c *Console) out() io.Writer {
	if c.Out == nil {
		return io.Discard
	}
	return c.Out
}

// clear takes a redrawn progress line off the terminal.
func (c *Console) clear() {
	if c.drawn {
		fmt.Fprint(c.out(), "\r\033[K")
		c.drawn = false
	}
}

// Tally follows one lane's run through its suites' progress lines: how many specs it will run,
// each one that finished, and the report's properties. When the lane is cut short, its report
// is made from what the tally holds.
type Tally struct {
	Lane  string
	Total int
	Cases []junit.Case
	Props []junit.Property
	Start time.Time

	c                                      *Console
	mu                                     sync.Mutex
	passed, alike, failed, errors, skipped int
}

// Lane starts following a lane; total is what it is expected to run (0 when not known yet).
func (c *Console) Lane(name string, total int) *Tally {
	return &Tally{Lane: name, Total: total, Start: time.Now(), c: c}
}

// Begin restarts the lane's clock: a lane waiting for a free core (the emulated Pi's lanes run
// as many at once as there are VMs) counts its time, and guesses the time left, from its start.
func (t *Tally) Begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Start = time.Now()
}

// Stream returns a writer for one process's output in the lane: progress lines go to the
// tally, everything else to the log (and to the console with Verbose), each line after
// prefix. Flush it when the process is gone.
func (t *Tally) Stream(prefix string) *Stream { return &Stream{t: t, prefix: prefix} }

// Stream is the output of one process of a lane, taken line by line.
type Stream struct {
	t      *Tally
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (s *Stream) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, b...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.buf[:i]))
		s.buf = s.buf[i+1:]
	}
	return len(b), nil
}

// Flush takes what is left of a last line.
func (s *Stream) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		s.line(string(s.buf))
		s.buf = nil
	}
}

func (s *Stream) line(l string) {
	before, p, ok := junit.ParseProgress(l)
	if strings.TrimSpace(before) != "" || !ok {
		s.t.c.text(s.prefix + before)
	}
	if ok {
		s.t.take(p)
	}
}

// text is a line of the suites' stream.
func (c *Console) text(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Log != nil {
		fmt.Fprintln(c.Log, line)
	}
	if c.Verbose {
		fmt.Fprintln(c.out(), line)
	}
}

// take records a progress line.
func (t *Tally) take(p junit.Progress) {
	t.mu.Lock()
	if p.Total > 0 && t.Total == 0 {
		t.Total = p.Total
	}
	for _, pr := range p.Props {
		if !hasProp(t.Props, pr.Name) {
			t.Props = append(t.Props, pr)
		}
	}
	var failed *junit.Case
	if p.Case != nil {
		t.Cases = append(t.Cases, *p.Case)
		switch c := p.Case; {
		case c.Failure != nil, c.Error != nil:
			if c.Failure != nil {
				t.failed++
			} else {
				t.errors++
			}
			failed = c
		case c.Skipped != nil:
			t.skipped++
		default:
			t.passed++
			if verdictOf(*c) == vocab.MetIndistinct {
				t.alike++
			}
		}
	}
	t.mu.Unlock()
	if failed != nil {
		t.c.failure(t.Lane, *failed)
	}
	if p.Case != nil || p.Total > 0 {
		t.c.progress(t, false)
	}
}

func hasProp(ps []junit.Property, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func verdictOf(c junit.Case) vocab.Verdict {
	if rs := c.Results(); len(rs) > 0 {
		return rs[len(rs)-1].Verdict
	}
	return ""
}

// Line is the lane's progress line.
func (t *Tally) Line() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	done := t.passed + t.failed + t.errors + t.skipped
	elapsed := time.Since(t.Start)
	s := fmt.Sprintf("[%s] %d/%s specs: %d passed, %d failed, %d errors, %d skipped; %s", t.Lane, done, orQ(t.Total),
		t.passed, t.failed, t.errors, t.skipped, elapsed.Round(time.Second))
	// Specs differ a lot in length (a skip takes milliseconds, a Python tool seconds): guess
	// the time left only once a tenth of them is done.
	if done >= max(1, t.Total/10) && t.Total > done {
		left := time.Duration(float64(elapsed) / float64(done) * float64(t.Total-done))
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return s
}

func orQ(n int) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// progress shows t's progress line: redrawn on a terminal, else every ProgressEvery (or at
// once when final).
func (c *Console) progress(t *Tally, final bool) {
	if c.Verbose && !final {
		return
	}
	line := t.Line()
	counts, _, _ := strings.Cut(line, ";")
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.TTY && !final:
		fmt.Fprint(c.out(), "\r\033[K"+line)
		c.drawn = true
	case final && counts == c.printed && !c.drawn:
		// printed already, and nothing finished since
	case final || time.Since(c.lastAt) >= c.every():
		c.clear()
		fmt.Fprintln(c.out(), line)
		c.lastAt, c.printed = time.Now(), counts
	}
}

// every is how long apart progress lines are printed when they are not redrawn: ProgressEvery
// in a run's first half minute, then a third of the time the run has taken, so that a long run
// (the emulated Pi's four lanes take minutes) leaves a short log. Called with c.mu held.
func (c *Console) every() time.Duration {
	if c.started.IsZero() {
		c.started = time.Now()
	}
	return max(ProgressEvery, time.Since(c.started)/3)
}

// failure prints a failed spec or an infrastructure error in full.
func (c *Console) failure(lane string, k junit.Case) {
	m, what := k.Failure, "FAILED"
	if m == nil {
		m, what = k.Error, "ERROR"
		if m.Type != "" {
			what += " (" + m.Type + ")"
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	out := c.out()
	if c.Verbose {
		return // the stream showed it
	}
	fmt.Fprintf(out, "\n%s [%s] %s\n", what, lane, k.Name)
	text := strings.TrimSpace(m.Text)
	if text == "" {
		text = m.Message
	}
	for _, l := range strings.Split(text, "\n") {
		fmt.Fprintf(out, "    %s\n", l)
	}
	fmt.Fprintln(out)
	if c.GitHub {
		fmt.Fprintf(out, "::error title=%s::%s\n", ghEscape(what+" "+k.Name), ghEscape(m.Message))
	}
}

// ghEscape escapes a GitHub Actions workflow command's text.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Finish prints the lane's last progress line and what became of it.
func (c *Console) Finish(t *Tally, report string, err error) {
	c.progress(t, true)
	t.mu.Lock()
	alike := t.alike
	t.mu.Unlock()
	_ = alike // the run's summary counts them
	if err != nil {
		c.Printf("[%s] could not finish: %v; its report holds what finished: %s", t.Lane, err, report)
	}
}
