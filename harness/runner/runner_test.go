package runner_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// helperEnv makes the test binary act as a tool under test; its value is the
// mode, see helper.
const helperEnv = "RUNNER_TEST_HELPER" // private to this test binary, not a gpiohil variable

func TestMain(m *testing.M) {
	runner.MaybeRunParent()
	if mode := os.Getenv(helperEnv); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper plays a tool. Modes:
//
//	exit:N        print to both streams, exit N
//	hold          print "ready", sleep until a signal kills it
//	hold-handler  print "ready"; on SIGINT or SIGTERM print "got SIG", exit 3
//	ignore-term   ignore SIGINT and SIGTERM, print "ready", sleep
//	hang          print "working", sleep, never "ready"
//	spew          write 1 MiB to stdout and 100 KiB to stderr, then exit 0
//	pdeath        ask for SIGTERM when the parent dies, print "ready", sleep
//	poll-parent   print "ready", look at the parent id every 100 ms, exit 7 when it changes
//	fork:exit     start "sleep 1000" in the same group, print "ready PID", exit 0
//	fork:pdeath   the same, but ask for SIGTERM when the parent dies and sleep
func helper(mode string) {
	sleep := func() {
		for {
			time.Sleep(time.Hour)
		}
	}
	switch mode, arg, _ := strings.Cut(mode, ":"); mode {
	case "exit":
		fmt.Println("exiting")
		fmt.Fprintln(os.Stderr, "bye")
		n, _ := strconv.Atoi(arg)
		os.Exit(n)
	case "hold":
		fmt.Println("ready")
		sleep()
	case "hold-handler":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
		fmt.Println("ready")
		fmt.Println("got", <-sigs)
		os.Exit(3)
	case "ignore-term":
		signal.Ignore(unix.SIGINT, unix.SIGTERM)
		fmt.Println("ready")
		sleep()
	case "hang":
		fmt.Println("working")
		sleep()
	case "spew":
		line := strings.Repeat("x", 1023) + "\n"
		for range 1024 {
			os.Stdout.WriteString(line)
		}
		for range 100 {
			os.Stderr.WriteString(line)
		}
		os.Stdout.WriteString("END\n")
	case "poll-parent":
		ppid := os.Getppid()
		fmt.Println("ready")
		for os.Getppid() == ppid {
			time.Sleep(100 * time.Millisecond)
		}
		os.Exit(7)
	case "pdeath":
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
			panic(err)
		}
		fmt.Println("ready")
		sleep()
	case "fork":
		if arg == "pdeath" {
			if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
				panic(err)
			}
		}
		child := exec.Command("sleep", "1000")
		if err := child.Start(); err != nil {
			panic(err)
		}
		fmt.Println("ready", child.Process.Pid)
		if arg == "pdeath" {
			sleep()
		}
	default:
		panic("unknown helper mode " + mode)
	}
}

// spec returns a Spec that runs the test binary as a helper in mode.
func spec(mode string, ending vocab.Ending) runner.Spec {
	return runner.Spec{
		Argv:     []string{os.Args[0]},
		Env:      append(os.Environ(), helperEnv+"="+mode),
		Name:     "helper",
		Ending:   ending,
		Ready:    "ready",
		Deadline: 5 * time.Second,
	}
}

// procState returns the state letter of process pid, "" if there is none.
func procState(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))[0]
}

// checkGone fails the test if any live process is left in the group.
func checkGone(t *testing.T, res *runner.Result) {
	t.Helper()
	if res == nil {
		t.Fatal("no result")
	}
	if !res.Gone {
		t.Errorf("Gone = false; want true")
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if f[2] == strconv.Itoa(res.PGID) && f[0] != "Z" {
			t.Errorf("process %s (state %s) is still in group %d", d.Name(), f[0], res.PGID)
		}
	}
	if res.ParentPID != 0 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(res.ParentPID)); err == nil {
			t.Errorf("intermediate parent %d still exists", res.ParentPID)
		}
	}
}

func TestExit(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 3} {
		res, err := runner.Run(context.Background(), spec(fmt.Sprint("exit:", code), vocab.Exit))
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if res.ExitCode != code || res.Signal != 0 || res.Hung || res.Killed || res.Leftovers != 0 {
			t.Errorf("exit %d: result %+v", code, res)
		}
		if string(res.Stdout) != "exiting\n" || string(res.Stderr) != "bye\n" {
			t.Errorf("exit %d: stdout %q, stderr %q; want %q, %q", code, res.Stdout, res.Stderr, "exiting\n", "bye\n")
		}
		if res.Status() != "exit status "+strconv.Itoa(code) || res.PID == 0 || res.PGID != res.PID {
			t.Errorf("exit %d: status %q, pid %d, pgid %d", code, res.Status(), res.PID, res.PGID)
		}
	}
}

func TestSignalEndings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     string
		ending   vocab.Ending
		code     int
		signal   syscall.Signal
		inOutput string
	}{
		{"hold", vocab.SIGINT, -1, unix.SIGINT, ""},
		{"hold", vocab.SIGTERM, -1, unix.SIGTERM, ""},
		{"hold", vocab.SIGKILL, -1, unix.SIGKILL, ""},
		{"hold-handler", vocab.SIGINT, 3, 0, "got interrupt"},
		{"hold-handler", vocab.SIGTERM, 3, 0, "got terminated"},
	} {
		t.Run(tc.mode+"/"+tc.ending.String(), func(t *testing.T) {
			t.Parallel()
			res, err := runner.Run(context.Background(), spec(tc.mode, tc.ending))
			if err != nil {
				t.Fatal(err)
			}
			checkGone(t, res)
			if res.ExitCode != tc.code || res.Signal != tc.signal || res.Killed || res.Hung {
				t.Errorf("result %+v; want exit code %d, signal %v", res, tc.code, tc.signal)
			}
			if !strings.Contains(string(res.Stdout), tc.inOutput) {
				t.Errorf("stdout %q; want it to contain %q", res.Stdout, tc.inOutput)
			}
			if res.Ready <= 0 || res.Ready > res.Total {
				t.Errorf("ready after %v, total %v", res.Ready, res.Total)
			}
		})
	}
}

func TestSettleWithoutReady(t *testing.T) {
	t.Parallel()
	s := spec("hold", vocab.SIGTERM)
	s.Ready, s.Settle = "", 150*time.Millisecond
	res, err := runner.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	checkGone(t, res)
	if res.Ready < s.Settle || res.Signal != unix.SIGTERM {
		t.Errorf("ready after %v (want at least %v), signal %v", res.Ready, s.Settle, res.Signal)
	}
}

// With a line watch (Spec.Held), a holding tool is ended once it is seen holding its line, not
// after a fixed settle time; one never seen holding it is killed with a *NotHeldError (an
// infrastructure problem) when its deadline comes, never ended and judged.
func TestHeldIsWaitedFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ready   string        // the tool's Ready text, "" for none
		closeIn time.Duration // when the watch sees the line held; -1: never
	}{
		{"held after 20 ms", "", 20 * time.Millisecond},
		{"held after 600 ms, longer than the old settle", "", 600 * time.Millisecond},
		{"ready, then held", "ready", 200 * time.Millisecond},
		{"never held", "", -1},
		{"ready but never held", "ready", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := spec("hold", vocab.SIGTERM)
			held := make(chan struct{})
			s.Ready, s.Held, s.Deadline = tc.ready, held, 2*time.Second
			if tc.closeIn >= 0 {
				time.AfterFunc(tc.closeIn, func() { close(held) })
			}
			start := time.Now()
			res, err := runner.Run(context.Background(), s)
			if tc.closeIn < 0 {
				var nh *runner.NotHeldError
				if !errors.As(err, &nh) || !errors.Is(err, runner.ErrNotHeld) || !strings.Contains(err.Error(), "was never seen holding its line within 2s") {
					t.Fatalf("err = %v; want a *NotHeldError after the deadline", err)
				}
				if res.Signal != unix.SIGKILL || !res.Killed || res.SeenHeld {
					t.Errorf("signal %v, killed %v, seen held %v; want SIGKILL, killed, not held", res.Signal, res.Killed, res.SeenHeld)
				}
				if d := time.Since(start); d < s.Deadline {
					t.Errorf("gave up after %v, before the deadline of %v", d, s.Deadline)
				}
				checkGone(t, res)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkGone(t, res)
			if !res.SeenHeld || res.Signal != unix.SIGTERM {
				t.Errorf("seen held %v, signal %v; want held, SIGTERM", res.SeenHeld, res.Signal)
			}
			// The tool was ended only once held: the whole run lasts at least until then.
			if res.Total < tc.closeIn {
				t.Errorf("ended after %v, before it was seen held at %v", res.Total, tc.closeIn)
			}
		})
	}
}

func TestHangIsBoundedAndReported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode   string
		ending vocab.Ending
		want   string
	}{
		{"hang", vocab.Exit, `runner: helper did not exit within 300ms (killed); last output: "working"`},
		{"ignore-term", vocab.SIGTERM, `runner: helper did not exit after SIGTERM within 300ms (killed); last output: "ready"`},
		{"hang", vocab.SIGINT, `runner: helper did not print "ready" within 300ms (killed); last output: "working"`},
		{"hang", vocab.ParentDeath, `runner: helper did not print "ready" within 300ms (killed); last output: "working"`},
	} {
		t.Run(tc.mode+"/"+tc.ending.String(), func(t *testing.T) {
			t.Parallel()
			s := spec(tc.mode, tc.ending)
			s.Deadline = 300 * time.Millisecond
			start := time.Now()
			res, err := runner.Run(context.Background(), s)
			if took := time.Since(start); took > s.Deadline+time.Second {
				t.Errorf("Run took %v with a deadline of %v", took, s.Deadline)
			}
			if !errors.Is(err, runner.ErrHung) || err.Error() != tc.want {
				t.Errorf("error:\n got %v\nwant %s", err, tc.want)
			}
			var he *runner.HangError
			if !errors.As(err, &he) || he.Deadline != s.Deadline {
				t.Errorf("error %#v is not a *HangError with the deadline", err)
			}
			checkGone(t, res)
			if !res.Hung || !res.Killed || res.Signal != unix.SIGKILL {
				t.Errorf("hung %v, killed %v, signal %v; want true, true, killed", res.Hung, res.Killed, res.Signal)
			}
		})
	}
}

func TestExitedEarly(t *testing.T) {
	t.Parallel()
	for _, ending := range []vocab.Ending{vocab.SIGTERM, vocab.ParentDeath} {
		s := spec("exit:1", ending)
		s.Ready = ""
		res, err := runner.Run(context.Background(), s)
		want := `runner: helper exited (exit status 1) before it could be ended by ` + ending.Title() +
			`; a holding action must run until then; last output: "bye"`
		if !errors.Is(err, runner.ErrExitedEarly) || err.Error() != want {
			t.Errorf("%v: error:\n got %v\nwant %s", ending, err, want)
		}
		checkGone(t, res)
		if res.ExitCode != 1 || res.Killed {
			t.Errorf("%v: exit code %d, killed %v; want 1, false", ending, res.ExitCode, res.Killed)
		}
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	for argv0, want := range map[string]string{
		"gpioseta":              `runner: "gpioseta" not found on PATH`,
		"/nonexistent/gpioseta": `runner: "/nonexistent/gpioseta" does not exist`,
	} {
		res, err := runner.Run(context.Background(), runner.Spec{Argv: []string{argv0}})
		if res != nil || !errors.Is(err, exec.ErrNotFound) || err.Error() != want {
			t.Errorf("Run(%s) = %v, %v; want nil, %s", argv0, res, err, want)
		}
	}
}

func TestBadSpec(t *testing.T) {
	t.Parallel()
	for _, s := range []runner.Spec{
		{},
		{Argv: []string{"true"}, Ending: vocab.Ending(9)},
		{Argv: []string{"true"}, Ending: vocab.SIGTERM, Settle: time.Second, Deadline: time.Second},
	} {
		if res, err := runner.Run(context.Background(), s); err == nil || res != nil {
			t.Errorf("Run(%+v) = %v, %v; want an error", s, res, err)
		}
	}
}

func TestOutputIsBounded(t *testing.T) {
	t.Parallel()
	res, err := runner.Run(context.Background(), spec("spew", vocab.Exit))
	if err != nil {
		t.Fatal(err)
	}
	checkGone(t, res)
	if len(res.Stdout) != runner.OutputLimit || res.StdoutTotal != 1<<20+4 ||
		!strings.HasSuffix(string(res.Stdout), "x\nEND\n") {
		t.Errorf("stdout: kept %d of %d bytes, ending %q; want the last %d of %d, ending with END",
			len(res.Stdout), res.StdoutTotal, res.Stdout[max(0, len(res.Stdout)-8):], runner.OutputLimit, 1<<20+4)
	}
	if len(res.Stderr) != runner.OutputLimit || res.StderrTotal != 100<<10 {
		t.Errorf("stderr: kept %d of %d bytes; want %d of %d", len(res.Stderr), res.StderrTotal, runner.OutputLimit, 100<<10)
	}
}

func TestReadySplitAcrossWrites(t *testing.T) {
	t.Parallel()
	s := runner.Spec{Argv: []string{"sh", "-c", "printf re; sleep 0.05; printf 'ady\\n'; exec sleep 100"},
		Ending: vocab.SIGTERM, Ready: "ready", Deadline: 5 * time.Second}
	res, err := runner.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	checkGone(t, res)
	if res.Signal != unix.SIGTERM || res.Ready < 50*time.Millisecond {
		t.Errorf("signal %v, ready after %v; want SIGTERM after at least 50ms", res.Signal, res.Ready)
	}
}

func TestParentDeath(t *testing.T) {
	t.Parallel()
	t.Run("tool survives", func(t *testing.T) {
		t.Parallel()
		res, err := runner.Run(context.Background(), spec("hold", vocab.ParentDeath))
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if !res.SurvivedParent || !res.Killed || res.Signal != unix.SIGKILL {
			t.Errorf("survived %v, killed %v, signal %v; want true, true, killed", res.SurvivedParent, res.Killed, res.Signal)
		}
		if res.ParentPID == 0 || res.ParentPID == res.PID || res.PGID != res.ParentPID {
			t.Errorf("pid %d, parent %d, pgid %d; want a distinct parent leading the group", res.PID, res.ParentPID, res.PGID)
		}
		if string(res.Stdout) != "ready\n" {
			t.Errorf("stdout %q; want the tool's output, %q", res.Stdout, "ready\n")
		}
		// The helper sleeps for an hour: once it is seen asleep, the rest of the grace
		// cannot change anything (quiet.go).
		if res.GraceCut <= 0 {
			t.Errorf("grace cut %v; want the wait ended early for a tool asleep for an hour", res.GraceCut)
		}
	})
	t.Run("tool that polls its parent", func(t *testing.T) {
		t.Parallel()
		res, err := runner.Run(context.Background(), spec("poll-parent", vocab.ParentDeath))
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if res.SurvivedParent || res.ExitCode != 7 || res.GraceCut != 0 {
			t.Errorf("survived %v, exit code %d, grace cut %v; want the tool seen leaving (7) within the grace", res.SurvivedParent, res.ExitCode, res.GraceCut)
		}
	})
	t.Run("gpiohil as the parent", func(t *testing.T) {
		t.Parallel()
		s := spec("pdeath", vocab.ParentDeath)
		s.Parent = vmtest.Binary(t)
		res, err := runner.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if res.SurvivedParent || res.Killed || res.Signal != unix.SIGTERM || res.ParentPID == 0 {
			t.Errorf("survived %v, killed %v, signal %v, parent %d; want false, false, terminated, a parent", res.SurvivedParent, res.Killed, res.Signal, res.ParentPID)
		}
		s = spec("hold", vocab.ParentDeath)
		s.Parent = "/nonexistent/gpiohil"
		if _, err := runner.Run(context.Background(), s); err == nil || !strings.Contains(err.Error(), "/nonexistent/gpiohil") {
			t.Errorf("a missing parent program: err = %v; want one naming it", err)
		}
	})
	t.Run("tool dies with its parent", func(t *testing.T) {
		t.Parallel()
		res, err := runner.Run(context.Background(), spec("pdeath", vocab.ParentDeath))
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if res.SurvivedParent || res.Killed || res.Signal != unix.SIGTERM {
			t.Errorf("survived %v, killed %v, signal %v; want false, false, terminated", res.SurvivedParent, res.Killed, res.Signal)
		}
	})
}

func TestLeftoversAreKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode   string
		ending vocab.Ending
		signal syscall.Signal
	}{
		{"fork:exit", vocab.Exit, 0},
		{"fork:pdeath", vocab.ParentDeath, unix.SIGTERM},
	} {
		res, err := runner.Run(context.Background(), spec(tc.mode, tc.ending))
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if res.Leftovers != 1 || res.Signal != tc.signal || res.Killed {
			t.Errorf("%s: leftovers %d, signal %v, killed %v; want 1, %v, false", tc.mode, res.Leftovers, res.Signal, res.Killed, tc.signal)
		}
		_, child, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), " ")
		if state := procState(child); child == "" || (state != "" && state != "Z") {
			t.Errorf("%s: forked child %q is still there in state %s", tc.mode, child, state)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := runner.Run(ctx, spec("hang", vocab.Exit))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v; want context.DeadlineExceeded", err)
	}
	checkGone(t, res)
	if !res.Killed || res.Hung {
		t.Errorf("killed %v, hung %v; want true, false", res.Killed, res.Hung)
	}
}

func TestArgv0IsKept(t *testing.T) {
	t.Parallel()
	for _, ending := range []vocab.Ending{vocab.Exit, vocab.ParentDeath} {
		res, err := runner.Run(context.Background(), runner.Spec{Argv: []string{"cat", "/proc/self/cmdline"}, Ending: ending})
		if ending == vocab.ParentDeath && errors.Is(err, runner.ErrExitedEarly) {
			err = nil
		}
		if err != nil {
			t.Fatal(err)
		}
		checkGone(t, res)
		if want := "cat\x00/proc/self/cmdline\x00"; string(res.Stdout) != want {
			t.Errorf("%v: the tool saw argv %q; want %q", ending, res.Stdout, want)
		}
	}
}

// A grace after SIGTERM is how systemd stops a service: a tool that ignores the signal is
// SIGKILLed when it ends, not reported as hung; one that does not ignore it is never escalated.
func TestGraceEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	s := spec("ignore-term", vocab.SIGTERM)
	s.Grace = 200 * time.Millisecond
	res, err := runner.Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkGone(t, res)
	if !res.Escalated || res.Signal != unix.SIGKILL || res.Hung {
		t.Errorf("escalated %v, signal %v, hung %v; want true, killed, false", res.Escalated, res.Signal, res.Hung)
	}
	s = spec("hold", vocab.SIGTERM)
	s.Grace = 5 * time.Second
	if res, err = runner.Run(context.Background(), s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Escalated || res.Signal != unix.SIGTERM {
		t.Errorf("escalated %v, signal %v; want false, terminated", res.Escalated, res.Signal)
	}
}
