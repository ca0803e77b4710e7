package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// signalOf returns the signal a signal ending sends to the tool's group.
func signalOf(e vocab.Ending) syscall.Signal {
	return map[vocab.Ending]syscall.Signal{vocab.SIGINT: unix.SIGINT, vocab.SIGTERM: unix.SIGTERM, vocab.SIGKILL: unix.SIGKILL}[e]
}

const (
	// DefaultSettle is how long a holding tool that prints no Ready text is
	// given to request its lines before it is ended. A C or Go tool requests
	// a line within about 10 ms even under QEMU's software emulation (a static
	// Go program took 8 ms there); 300 ms leaves a wide margin for a loaded CI
	// runner while keeping a matrix of many runs quick. Slow starters, such as
	// Python under emulation, should print a Ready text instead.
	DefaultSettle = 300 * time.Millisecond

	// DefaultDeadline bounds a whole run. Python starting and importing a
	// module under QEMU's software emulation takes a few seconds at worst;
	// anything beyond 10 s is a hang.
	DefaultDeadline = 10 * time.Second

	// ParentDeathGrace is how long the tool is watched after its parent died
	// before it is recorded as having survived. PR_SET_PDEATHSIG is delivered
	// at once; a tool that polls its parent id or a pipe reacts within its
	// own poll period, which 500 ms covers for any sane tool.
	ParentDeathGrace = 500 * time.Millisecond

	// OutputLimit bounds the capture of stdout and of stderr: the last
	// OutputLimit bytes of each are kept.
	OutputLimit = 64 << 10

	// killWait bounds the wait for a process to vanish after SIGKILL, which
	// only a process stuck in the kernel (D state) resists.
	killWait = 5 * time.Second

	// foreignZombieWait is how long sweep waits for another parent (init) to
	// reap dead members of the group; a zombie holds no lines, so this only
	// keeps the process table tidy for whoever looks next.
	foreignZombieWait = 100 * time.Millisecond

	// drainWait bounds the wait for the output pipes to reach end of file once
	// every process of the group is gone; only an escaped daemon keeps them open.
	drainWait = 200 * time.Millisecond
)

// Spec says what to run and how to end it.
type Spec struct {
	Argv   []string      // program and arguments; the program is looked up on PATH
	Env    []string      // the whole environment; nil means this process's environment
	Dir    string        // working directory; "" means this process's
	Name   string        // name in messages; "" means the base name of Argv[0]
	Ending vocab.Ending  // how to end the tool
	Ready  string        // text on stdout or stderr meaning the tool has set its lines; replaces Settle
	Settle time.Duration // wait before ending a holding tool without Ready; 0 means DefaultSettle
	// Parent, for ParentDeath, is the program to start as the tool's intermediate parent: one
	// that calls MaybeRunParent first thing in main, as gpiohil does. "" means this executable
	// (which must call it too). A small program starts faster than a large test binary: under
	// emulation gpiohil takes about 40 ms where the suites' test binary takes 130.
	Parent string
	// Held, for a holding tool, is closed when the tool is seen from outside to hold its line
	// (bench.LineWatch). When it is set, the tool is ended only after that (and after Ready,
	// if any), waiting up to Deadline: a tool never seen holding its line is killed with a
	// *NotHeldError, never ended the chosen way. Without it, Settle (or Ready) is the wait.
	Held     <-chan struct{}
	Deadline time.Duration // bound of the whole run; 0 means DefaultDeadline
	// WhileHeld, when set, is called once a holding tool has settled and before it is ended,
	// to look at the line while the tool holds it. Its time counts against Deadline.
	WhileHeld func()
	// Grace, when set with a SIGINT or SIGTERM ending, is how long the tool has to end after
	// the signal before its group is SIGKILLed (Result.Escalated): how systemd stops a service
	// (TimeoutStopSec). Without it, a tool that survives its signal is a hang at the deadline.
	Grace time.Duration
}

// Result is what a run observed. Run returns one whenever the tool started,
// even together with an error.
type Result struct {
	Name      string
	Ending    vocab.Ending
	PID       int // the tool
	PGID      int // the tool's process group
	ParentPID int // the intermediate parent, for ParentDeath

	ExitCode int            // -1 if the tool was ended by a signal
	Signal   syscall.Signal // the signal that ended the tool, 0 if it exited

	Stdout, Stderr           []byte // the last OutputLimit bytes of each
	StdoutTotal, StderrTotal int64  // bytes written to each, captured or not

	Ready    time.Duration // start until the tool was settled: Ready printed, Held closed or Settle passed; 0 if none happened
	SeenHeld bool          // Spec.Held was closed before the tool was ended
	Total    time.Duration // start until the tool and its group were gone

	Hung           bool // the tool did not exit (or print Ready) within the deadline
	Killed         bool // the runner SIGKILLed the tool after the ending: a hang, a survivor, a cancel
	SurvivedParent bool // ParentDeath: the tool was still running ParentDeathGrace after its parent died
	// GraceCut is how much of ParentDeathGrace was left when the tool was seen unable to run
	// again before its end (quiet.go); 0 when the whole grace passed or the tool exited.
	GraceCut  time.Duration
	Escalated bool // the tool outlived Spec.Grace after its ending signal and was SIGKILLed
	Leftovers int  // other live processes found in the group after the tool ended, then killed
	Gone      bool // the tool has ended and been reaped
}

// Status describes how the tool ended, like os.ProcessState.String.
func (r *Result) Status() string {
	if r.Signal != 0 {
		return "signal: " + r.Signal.String()
	}
	return "exit status " + strconv.Itoa(r.ExitCode)
}

var (
	// ErrHung is matched by the error for a tool that did not exit, or did
	// not print its Ready text, within the deadline.
	ErrHung = errors.New("hung")

	// ErrExitedEarly is matched by the error for a tool that exited before it
	// could be ended by a signal or by its parent's death.
	ErrExitedEarly = errors.New("exited before it could be ended")

	// ErrNotHeld is matched by the error for a holding tool that was never seen
	// holding its line (Spec.Held) within the deadline.
	ErrNotHeld = errors.New("never seen holding its line")
)

// NotHeldError reports a holding tool that the line watch (Spec.Held) never saw
// holding its line within its deadline. It was killed without being ended the
// chosen way: what its line then does says nothing about that ending, so this
// is an infrastructure problem (a tool too slow to start, a watch that missed
// the request), never a verdict. It matches [ErrNotHeld].
type NotHeldError struct {
	Name       string
	Deadline   time.Duration
	LastOutput string
}

func (e *NotHeldError) Error() string {
	return fmt.Sprintf("runner: %s was %v within %v (the kernel's line-info events showed no request that stayed put); killed it without ending it; last output: %s",
		e.Name, ErrNotHeld, e.Deadline, e.LastOutput)
}

func (e *NotHeldError) Unwrap() error { return ErrNotHeld }

// NotFoundError reports a program that is not on PATH or does not exist.
// It matches exec.ErrNotFound.
type NotFoundError struct {
	Name string
}

func (e *NotFoundError) Error() string {
	if strings.Contains(e.Name, "/") {
		return fmt.Sprintf("runner: %q does not exist", e.Name)
	}
	return fmt.Sprintf("runner: %q not found on PATH", e.Name)
}

func (e *NotFoundError) Unwrap() error { return exec.ErrNotFound }

// HangError reports a tool that did not exit, or did not print its Ready
// text, within its deadline; it was killed. It matches [ErrHung].
type HangError struct {
	Name       string
	Deadline   time.Duration
	After      vocab.Ending // the ending that the tool did not follow; Exit if it was never signalled
	Ready      string       // the text the tool did not print, if it never settled
	LastOutput string
}

func (e *HangError) Error() string {
	what := "did not exit"
	switch {
	case e.Ready != "":
		what = fmt.Sprintf("did not print %q", e.Ready)
	case e.After != vocab.Exit:
		what = "did not exit after " + e.After.Title()
	}
	return fmt.Sprintf("runner: %s %s within %v (killed); last output: %s", e.Name, what, e.Deadline, e.LastOutput)
}

func (e *HangError) Unwrap() error { return ErrHung }

// EarlyExitError reports a tool that exited before it could be ended by a
// signal or by its parent's death: the action does not hold its lines, or it
// failed. It matches [ErrExitedEarly].
type EarlyExitError struct {
	Name       string
	Status     string
	Ending     vocab.Ending
	LastOutput string
}

func (e *EarlyExitError) Error() string {
	return fmt.Sprintf("runner: %s exited (%s) before it could be ended by %s; a holding action must run until then; last output: %s",
		e.Name, e.Status, e.Ending.Title(), e.LastOutput)
}

func (e *EarlyExitError) Unwrap() error { return ErrExitedEarly }

// outcome is how the driving phase of a run went; Run turns it into an error
// once the tool is gone and its status and output are known.
type outcome int

const (
	ended outcome = iota
	exitedEarly
	hung
	notReady
	notHeld
	canceled
)

// run is one Run in progress.
type run struct {
	spec   Spec
	res    *Result
	start  time.Time
	cmd    *exec.Cmd     // the tool, or for ParentDeath the parent
	exited chan struct{} // closed once the tool has terminated
	ready  *readyWatch
	out    [2]*capture
	pipes  [2]*os.File // read ends of stdout and stderr
	drain  sync.WaitGroup

	// ParentDeath only.
	pidfd      int
	parentDone chan struct{} // closed once the parent has been reaped
}

// Run starts spec.Argv, ends it as spec.Ending says and returns once the tool
// and every process of its group are gone. See the package documentation.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, errors.New("runner: empty argv")
	}
	if !spec.Ending.Valid() {
		return nil, fmt.Errorf("runner: unknown ending %v", spec.Ending)
	}
	if spec.Settle == 0 {
		spec.Settle = DefaultSettle
	}
	if spec.Deadline == 0 {
		spec.Deadline = DefaultDeadline
	}
	if spec.Ending != vocab.Exit && spec.Ready == "" && spec.Settle >= spec.Deadline {
		return nil, fmt.Errorf("runner: settle %v is not shorter than the deadline %v", spec.Settle, spec.Deadline)
	}
	if spec.Name == "" {
		spec.Name = filepath.Base(spec.Argv[0])
	}
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, &NotFoundError{Name: spec.Argv[0]}
		}
		return nil, fmt.Errorf("runner: %w", err)
	}
	r := &run{spec: spec, res: &Result{Name: spec.Name, Ending: spec.Ending, ExitCode: -1}, exited: make(chan struct{}), pidfd: -1}
	if err := r.startTool(path); err != nil {
		return nil, err
	}
	o := r.drive(ctx)
	finishErr := r.finish()
	r.res.Total = time.Since(r.start)
	if at := r.ready.at(); !at.IsZero() && r.res.Ready == 0 {
		r.res.Ready = at.Sub(r.start)
	}
	if err := r.outcomeErr(ctx, o); err != nil {
		return r.res, err
	}
	return r.res, finishErr
}

// startTool starts the tool, through the intermediate parent for ParentDeath,
// in a new process group with its output going to two captures.
func (r *run) startTool(path string) error {
	r.ready = newReadyWatch(r.spec.Ready)
	var writers [2]*os.File
	for i := range r.pipes {
		rd, wr, err := os.Pipe()
		if err != nil {
			for _, f := range append(r.pipes[:i], writers[:i]...) {
				f.Close()
			}
			return fmt.Errorf("runner: %w", err)
		}
		r.pipes[i], writers[i] = rd, wr
		r.out[i] = &capture{limit: OutputLimit, ready: r.ready}
	}
	env := r.spec.Env
	if env == nil {
		env = os.Environ()
	}
	// Args keeps argv[0] as given: tools name themselves after it in messages.
	r.cmd = &exec.Cmd{Path: path, Args: r.spec.Argv, Env: env, Dir: r.spec.Dir, Stdout: writers[0], Stderr: writers[1],
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	var (
		pidReport *os.File
		err       error
	)
	if r.spec.Ending == vocab.ParentDeath {
		pidReport, err = r.startParent()
	} else {
		r.start = time.Now()
		err = r.cmd.Start()
	}
	for _, w := range writers {
		w.Close() // the children hold their own copies
	}
	if err != nil {
		for _, p := range r.pipes {
			p.Close()
		}
		return fmt.Errorf("runner: starting %s: %w", r.spec.Name, err)
	}
	r.res.PGID = r.cmd.Process.Pid
	if pidReport != nil {
		err = r.attachTool(pidReport)
	} else {
		r.res.PID = r.cmd.Process.Pid
		go func() {
			r.cmd.Wait()
			close(r.exited)
		}()
	}
	for i, p := range r.pipes {
		r.drain.Add(1)
		go func() {
			defer r.drain.Done()
			io.Copy(r.out[i], p)
		}()
	}
	if err != nil {
		r.drainOutput()
		return fmt.Errorf("runner: starting %s: %w; last output: %s", r.spec.Name, err, lastOutput(r.res))
	}
	return nil
}

// drive waits for the tool to settle, ends it and waits for it to exit.
func (r *run) drive(ctx context.Context) outcome {
	deadline := time.NewTimer(r.spec.Deadline - time.Since(r.start))
	defer deadline.Stop()
	if r.spec.Ending != vocab.Exit {
		if o, ok := r.settle(ctx, deadline.C); !ok {
			return o
		}
		select {
		case <-r.exited: // printed Ready and exited at once: it does not hold
			return exitedEarly
		default:
		}
		if r.spec.WhileHeld != nil {
			r.spec.WhileHeld()
		}
		if r.spec.Ending == vocab.ParentDeath {
			return r.killParent(ctx)
		}
		unix.Kill(-r.res.PGID, signalOf(r.spec.Ending))
		if r.spec.Grace > 0 && (r.spec.Ending == vocab.SIGINT || r.spec.Ending == vocab.SIGTERM) {
			grace := time.NewTimer(r.spec.Grace)
			defer grace.Stop()
			select {
			case <-r.exited:
				return ended
			case <-grace.C:
				r.res.Escalated = true
				unix.Kill(-r.res.PGID, unix.SIGKILL)
			case <-deadline.C:
				return hung
			case <-ctx.Done():
				return canceled
			}
		}
	}
	select {
	case <-r.exited:
		return ended
	case <-deadline.C:
		return hung
	case <-ctx.Done():
		return canceled
	}
}

// settle waits until the tool may be ended: it printed its Ready text and, where the line is
// watched (Spec.Held), it was seen holding the line; or, with neither, Settle has passed. ok
// is false with the outcome to return when it cannot be ended.
func (r *run) settle(ctx context.Context, deadline <-chan time.Time) (o outcome, ok bool) {
	if r.spec.Ready != "" {
		select {
		case <-r.ready.ch:
		case <-r.exited:
			return exitedEarly, false
		case <-deadline:
			return notReady, false
		case <-ctx.Done():
			return canceled, false
		}
	}
	var settled <-chan time.Time
	if r.spec.Held == nil && r.spec.Ready == "" {
		t := time.NewTimer(r.spec.Settle)
		defer t.Stop()
		settled = t.C
	}
	if r.spec.Held != nil || settled != nil {
		select {
		case <-r.spec.Held:
			r.res.SeenHeld = true
		case <-settled:
		case <-r.exited:
			return exitedEarly, false
		case <-deadline:
			return notHeld, false
		case <-ctx.Done():
			return canceled, false
		}
	}
	if r.spec.Ready == "" { // else Run takes the moment Ready was printed
		r.res.Ready = time.Since(r.start)
	}
	return ended, true
}

// finish makes sure the tool is gone (killing it if it is not), collects its
// status, sweeps its process group and drains its output.
func (r *run) finish() error {
	var errs []error
	select {
	case <-r.exited:
	default:
		r.res.Killed = true
		unix.Kill(-r.res.PGID, unix.SIGKILL)
		if r.pidfd >= 0 {
			unix.PidfdSendSignal(r.pidfd, unix.SIGKILL, nil, 0)
		}
		select {
		case <-r.exited:
		case <-time.After(killWait):
			errs = append(errs, fmt.Errorf("runner: %s (pid %d) survived SIGKILL for %v", r.spec.Name, r.res.PID, killWait))
		}
	}
	if r.spec.Ending == vocab.ParentDeath {
		errs = append(errs, r.reapParentAndTool())
	} else if ps := r.cmd.ProcessState; ps != nil {
		r.setStatus(ps.Sys().(syscall.WaitStatus))
	}
	errs = append(errs, r.sweep())
	r.drainOutput()
	return errors.Join(errs...)
}

func (r *run) setStatus(ws syscall.WaitStatus) {
	r.res.Gone = true
	if ws.Signaled() {
		r.res.ExitCode, r.res.Signal = -1, ws.Signal()
	} else {
		r.res.ExitCode, r.res.Signal = ws.ExitStatus(), 0
	}
}

// sweep kills whatever is left in the tool's process group and waits until
// no process remains in it, reaping those that are Run's children (orphans
// re-parented to this subreaper). Zombies of another parent hold nothing and
// are waited for only briefly.
func (r *run) sweep() error {
	pgid := r.res.PGID
	if unix.Kill(-pgid, 0) == unix.ESRCH {
		return nil // the common case: nothing left, not even a zombie
	}
	r.res.Leftovers = len(groupMembers(pgid))
	unix.Kill(-pgid, unix.SIGKILL)
	for start, pause := time.Now(), time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		for {
			if pid, err := unix.Wait4(-pgid, nil, unix.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
		if unix.Kill(-pgid, 0) == unix.ESRCH {
			return nil
		}
		live := groupMembers(pgid)
		if len(live) == 0 && time.Since(start) > foreignZombieWait {
			return nil
		}
		if time.Since(start) > killWait {
			return fmt.Errorf("runner: processes %v of %s's group %d survived SIGKILL for %v", live, r.spec.Name, pgid, killWait)
		}
		time.Sleep(pause)
	}
}

// groupMembers returns the live (not zombie) processes in process group pgid.
func groupMembers(pgid int) []int {
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		state, group, ok := procStat(pid)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads the state and process group of pid from /proc/pid/stat.
func procStat(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgid, err = strconv.Atoi(f[2])
	return f[0][0], pgid, err == nil
}

// drainOutput waits for both output pipes to reach end of file, closing them
// if an escaped process still holds them after drainWait.
func (r *run) drainOutput() {
	done := make(chan struct{})
	go func() {
		r.drain.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainWait):
	}
	for _, p := range r.pipes {
		p.Close()
	}
	<-done
	r.res.Stdout, r.res.StdoutTotal = r.out[0].bytes()
	r.res.Stderr, r.res.StderrTotal = r.out[1].bytes()
}

// outcomeErr turns the outcome of drive into the error Run returns.
func (r *run) outcomeErr(ctx context.Context, o outcome) error {
	last := lastOutput(r.res)
	switch o {
	case exitedEarly:
		return &EarlyExitError{Name: r.spec.Name, Status: r.res.Status(), Ending: r.spec.Ending, LastOutput: last}
	case notHeld:
		r.res.Hung = true
		return &NotHeldError{Name: r.spec.Name, Deadline: r.spec.Deadline, LastOutput: last}
	case hung, notReady:
		r.res.Hung = true
		e := &HangError{Name: r.spec.Name, Deadline: r.spec.Deadline, After: r.spec.Ending, LastOutput: last}
		if o == notReady {
			e.Ready, e.After = r.spec.Ready, vocab.Exit
		}
		return e
	case canceled:
		return fmt.Errorf("runner: %s (killed): %w", r.spec.Name, context.Cause(ctx))
	}
	return nil
}

// lastOutput returns the last line of stderr, or of stdout if stderr is
// empty, quoted and cut to a readable length.
func lastOutput(r *Result) string {
	const max = 200
	for _, b := range [][]byte{r.Stderr, r.Stdout} {
		s := strings.TrimSpace(string(b))
		if s == "" {
			continue
		}
		s = s[strings.LastIndexByte(s, '\n')+1:]
		if len(s) > max {
			s = "..." + s[len(s)-max:]
		}
		return strconv.Quote(s)
	}
	return "none"
}

// readyWatch fires once when the Ready text shows up on either stream.
type readyWatch struct {
	text []byte
	ch   chan struct{}
	once sync.Once
	mu   sync.Mutex
	when time.Time
}

func newReadyWatch(text string) *readyWatch {
	return &readyWatch{text: []byte(text), ch: make(chan struct{})}
}

func (w *readyWatch) fire() {
	w.once.Do(func() {
		w.mu.Lock()
		w.when = time.Now()
		w.mu.Unlock()
		close(w.ch)
	})
}

func (w *readyWatch) at() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.when
}

// capture keeps the last limit bytes written to it and looks for the Ready
// text, also across writes.
type capture struct {
	mu    sync.Mutex
	buf   []byte
	total int64
	limit int
	ready *readyWatch
	carry []byte // the end of the previous write, for Ready texts split across writes
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - c.limit; over > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[over:])]
	}
	if n := len(c.ready.text); n > 0 {
		window := append(c.carry, p...)
		if bytes.Contains(window, c.ready.text) {
			c.ready.fire()
		}
		c.carry = append(c.carry[:0], window[max(0, len(window)-n+1):]...)
	}
	return len(p), nil
}

func (c *capture) bytes() ([]byte, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...), c.total
}

// readPID reads the decimal pid the parent reports on its first line.
func readPID(f *os.File) (int, error) {
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(line))
}
