package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"golang.org/x/sys/unix"
)

// parentEnv marks the process Run starts as the intermediate parent.
const parentEnv = runenv.EnvRunnerParent

var (
	parentHooked    atomic.Bool
	becomeSubreaper = sync.OnceValue(func() error {
		return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	})
)

// MaybeRunParent must be called first thing in main, and in TestMain of tests
// that use ParentDeath, before flags are parsed. In the intermediate parent
// that Run starts for ParentDeath it starts the tool, reports its pid to Run
// and waits to be killed, never returning; anywhere else it returns at once.
func MaybeRunParent() {
	parentHooked.Store(true)
	if !runenv.IsRunnerParent() {
		return
	}
	os.Exit(runParent(os.Args[1:]))
}

// runParent is the intermediate parent. args are the tool's path and argv;
// fd 3 is where Run reads the tool's pid.
func runParent(args []string) int {
	syscall.CloseOnExec(3)
	report := os.NewFile(3, "pid report")
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "runner: intermediate parent: no tool to run")
		return 127
	}
	env := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, parentEnv+"=") })
	tool := &exec.Cmd{Path: args[0], Args: args[1:], Env: env, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := tool.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "runner: intermediate parent: %v\n", err)
		return 127
	}
	fmt.Fprintf(report, "%d\n", tool.Process.Pid)
	report.Close()
	// Never reap the tool: while this process lives the tool's pid cannot be
	// reused, even if the tool exits. Run kills this process.
	for {
		time.Sleep(time.Hour)
	}
}

// startParent starts Spec.Parent or the running binary as the tool's intermediate parent,
// in place of the tool, and returns the pipe it reports the tool's pid on.
func (r *run) startParent() (*os.File, error) {
	self := r.spec.Parent
	if self == "" {
		if !parentHooked.Load() {
			return nil, errors.New("ParentDeath needs runner.MaybeRunParent() called first thing in main (or TestMain)")
		}
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	if err := becomeSubreaper(); err != nil {
		return nil, fmt.Errorf("becoming a child subreaper: %w", err)
	}
	pidR, pidW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pidW.Close()
	r.cmd.Args = append([]string{self, r.cmd.Path}, r.cmd.Args...)
	r.cmd.Path = self
	r.cmd.Env = append(slices.Clip(r.cmd.Env), parentEnv+"=1")
	r.cmd.ExtraFiles = []*os.File{pidW}
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		pidR.Close()
		return nil, err
	}
	r.res.ParentPID = r.cmd.Process.Pid
	r.parentDone = make(chan struct{})
	go func() {
		r.cmd.Wait()
		close(r.parentDone)
	}()
	return pidR, nil
}

// attachTool learns the tool's pid from the parent and watches for the
// tool's end through a pidfd.
func (r *run) attachTool(report *os.File) error {
	defer report.Close()
	report.SetReadDeadline(r.start.Add(r.spec.Deadline))
	pid, err := readPID(report)
	if err == nil {
		r.res.PID = pid
		r.pidfd, err = unix.PidfdOpen(pid, 0)
	}
	if err != nil {
		r.cmd.Process.Kill()
		<-r.parentDone
		r.sweep() // in case the tool started after all
		return fmt.Errorf("the intermediate parent did not start it (%v)", err)
	}
	go func() {
		fds := []unix.PollFd{{Fd: int32(r.pidfd), Events: unix.POLLIN}}
		for {
			if n, err := unix.Poll(fds, -1); n > 0 || (err != nil && err != unix.EINTR) {
				close(r.exited)
				return
			}
		}
	}()
	return nil
}

// killParent SIGKILLs the parent and watches whether the tool follows it.
func (r *run) killParent(ctx context.Context) outcome {
	r.cmd.Process.Kill()
	select {
	case <-r.parentDone:
	case <-time.After(killWait):
	}
	until := time.Now().Add(ParentDeathGrace)
	grace := time.NewTimer(ParentDeathGrace)
	defer grace.Stop()
	look := time.NewTicker(quietLook)
	defer look.Stop()
	var last quietSample
	for {
		select {
		case <-r.exited:
			return ended
		case <-grace.C:
			r.res.SurvivedParent = true
			return ended
		case <-look.C:
			// See quiet.go: when the tool cannot run again before the grace is over,
			// the rest of the grace cannot change the outcome.
			s := sampleQuiet(r.res.PID, r.res.PGID, r.start, until)
			if s.same(last) {
				r.res.SurvivedParent, r.res.GraceCut = true, time.Until(until)
				return ended
			}
			last = s
		case <-ctx.Done():
			return canceled
		}
	}
}

// quietLook is how often a tool is looked at during ParentDeathGrace.
const quietLook = 10 * time.Millisecond

// reapParentAndTool makes sure the parent is dead and reaped, which makes the
// tool Run's child, and then reaps the tool for its status.
func (r *run) reapParentAndTool() error {
	r.cmd.Process.Kill()
	select {
	case <-r.parentDone:
	case <-time.After(killWait):
		return fmt.Errorf("runner: the intermediate parent (pid %d) survived SIGKILL for %v", r.res.ParentPID, killWait)
	}
	select {
	case <-r.exited:
	default:
		return nil // still running after SIGKILL: finish has said so
	}
	defer unix.Close(r.pidfd)
	var ws unix.WaitStatus
	if _, err := unix.Wait4(r.res.PID, &ws, 0, nil); err != nil {
		return fmt.Errorf("runner: reaping %s (pid %d) after its parent died: %w", r.spec.Name, r.res.PID, err)
	}
	r.setStatus(syscall.WaitStatus(ws))
	return nil
}
