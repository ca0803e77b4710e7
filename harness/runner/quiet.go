package runner

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// After its parent died, a tool is watched for ParentDeathGrace. Most tools do not react at
// all, and waiting the whole grace for each is most of what a parent-death check costs. When
// the tool provably cannot run again before the grace is over, waiting longer cannot change
// what is recorded, and the wait ends early. Provably means, from /proc, with the same
// answer twice in a row and no thread of the tool or of any other process of its group having
// run in between:
//
//   - no signal is pending for the process or any of its threads;
//   - every thread is asleep (state S) in a system call that waits for an event (pause,
//     read, a futex or poll without a timeout...), or for a timeout that cannot expire before
//     the grace is over. /proc/PID/task/TID/syscall shows the call and its arguments; poll
//     and epoll_wait take the timeout in milliseconds, others a pointer to a timespec, read
//     from /proc/PID/mem. A relative wait began after the tool started, so it ends no earlier
//     than the tool's start plus the timeout; an absolute one is compared with its clock.
//
// Whatever the parent's death did to the tool (a PR_SET_PDEATHSIG signal, end of file on a
// pipe from the parent) had happened when the parent was reaped, and would show as a pending
// signal or a runnable thread. A thread in any other system call, or not in one, or a timeout
// that cannot be read, keeps the whole grace.

// quietSample is what one look at the tool found.
type quietSample struct {
	quiet    bool
	switches map[string]int64 // per thread: voluntary plus involuntary context switches
}

// sampleQuiet looks at the tool (pid) and every other process of its group (pgid), all
// started after start, against a grace that ends at until: a helper the tool started could
// wake it (a write to a pipe it reads) when it notices the parent's death.
func sampleQuiet(pid, pgid int, start, until time.Time) quietSample {
	s := quietSample{quiet: true, switches: map[string]int64{}}
	pids := append([]int{pid}, slices.DeleteFunc(groupMembers(pgid), func(p int) bool { return p == pid })...)
	for _, p := range pids {
		if !s.add(p, start, until) {
			return quietSample{}
		}
	}
	return s
}

// add adds process pid's threads to the sample and reports whether all are quiet.
func (s quietSample) add(pid int, start, until time.Time) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	st, err := os.ReadFile(dir + "/status")
	if err != nil || pendingSignals(st) {
		return false
	}
	tasks, err := filepath.Glob(dir + "/task/*")
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		ts, err1 := os.ReadFile(t + "/status")
		sc, err2 := os.ReadFile(t + "/syscall")
		if err1 != nil || err2 != nil || pendingSignals(ts) || field(ts, "State:") != "S" || !waitsPast(pid, string(sc), start, until) {
			return false
		}
		v, _ := strconv.ParseInt(field(ts, "voluntary_ctxt_switches:"), 10, 64)
		n, _ := strconv.ParseInt(field(ts, "nonvoluntary_ctxt_switches:"), 10, 64)
		s.switches[strconv.Itoa(pid)+"/"+filepath.Base(t)] = v + n
	}
	return true
}

// same reports whether both samples are quiet and no thread ran between them.
func (s quietSample) same(o quietSample) bool {
	if !s.quiet || !o.quiet || len(s.switches) != len(o.switches) {
		return false
	}
	for t, n := range s.switches {
		if m, ok := o.switches[t]; !ok || m != n {
			return false
		}
	}
	return true
}

// field returns the first word after key in a /proc status file.
func field(status []byte, key string) string {
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// pendingSignals reports whether a status file shows a pending signal (SigPnd: the thread's,
// ShdPnd: the process's).
func pendingSignals(status []byte) bool {
	for _, key := range []string{"SigPnd:", "ShdPnd:"} {
		if v := field(status, key); v != "" && strings.Trim(v, "0") != "" {
			return true
		}
	}
	return false
}

// waitsPast reports whether a /proc/PID/task/TID/syscall line ("NR arg0 ... arg5 sp pc") of
// process pid is a wait that nothing but an event can end before until. A timeout given through
// a pointer is read from the process's memory (/proc/PID/mem); where it cannot be read, the
// wait counts as one that may end in time.
func waitsPast(pid int, line string, start, until time.Time) bool {
	f := strings.Fields(line)
	if len(f) < 7 {
		return false // "running", or "-1 sp pc": not in a system call
	}
	nr, err := strconv.Atoi(f[0])
	if err != nil {
		return false
	}
	arg := func(i int) uint64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(f[1+i], "0x"), 16, 64)
		if err != nil {
			return 1<<64 - 1
		}
		return v
	}
	// relative: a wait for at most d that began after the tool started.
	relative := func(ptr uint64) bool {
		if ptr == 0 {
			return true
		}
		d, ok := readTimespec(pid, ptr)
		return ok && start.Add(d).After(until)
	}
	// absolute: a wait until the given time of clock.
	absolute := func(clock int, ptr uint64) bool {
		if ptr == 0 {
			return true
		}
		t, ok := readTimespec(pid, ptr)
		var now unix.Timespec
		if !ok || unix.ClockGettime(int32(clock), &now) != nil {
			return false
		}
		return t-time.Duration(now.Nano()) > time.Until(until)
	}
	w, ok := waits[nr]
	if !ok {
		return false
	}
	switch w.kind {
	case waitEvent:
		return true
	case waitRelative:
		return relative(arg(w.arg))
	case waitMillis:
		ms := int32(uint32(arg(w.arg)))
		return ms < 0 || start.Add(time.Duration(ms)*time.Millisecond).After(until)
	case waitClockNanosleep:
		if arg(1)&timerAbstime != 0 {
			return absolute(int(arg(0)), arg(2))
		}
		return relative(arg(2))
	case waitFutex:
		op := arg(1) &^ (futexPrivateFlag | futexClockRealtime)
		switch op {
		case futexWait:
			return relative(arg(3))
		case futexWaitBitset:
			clock := unix.CLOCK_MONOTONIC
			if arg(1)&futexClockRealtime != 0 {
				clock = unix.CLOCK_REALTIME
			}
			return absolute(clock, arg(3))
		}
	}
	return false
}

// readTimespec reads a struct timespec at addr in process pid. Only 64-bit machines are
// understood (on 32-bit ones the layout depends on the system call).
func readTimespec(pid int, addr uint64) (time.Duration, bool) {
	if strconv.IntSize != 64 {
		return 0, false
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mem")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var b [16]byte
	if n, err := f.ReadAt(b[:], int64(addr)); n != len(b) || err != nil {
		return 0, false
	}
	sec, nsec := int64(binary.NativeEndian.Uint64(b[:8])), int64(binary.NativeEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 || sec > 1<<32 {
		return 0, false
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), true
}

// Futex operations and flags (linux/futex.h; not in golang.org/x/sys/unix for every
// architecture), and clock_nanosleep's TIMER_ABSTIME.
const (
	futexWait          = 0
	futexWaitBitset    = 9
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	timerAbstime       = 1
)

type waitKind int

const (
	waitEvent          waitKind = iota // no timeout at all
	waitRelative                       // a relative timeout: struct timespec pointer in argument arg; NULL is none
	waitMillis                         // a timeout in milliseconds in argument arg; negative is none
	waitClockNanosleep                 // clock_nanosleep(clock, flags, request, remain)
	waitFutex                          // futex(uaddr, op, val, timeout, ...)
)

type wait struct {
	kind waitKind
	arg  int
}

// waits are the system calls, by number on this machine, that only an event or a timeout ends.
// waitsArch (per architecture) adds the ones this architecture alone has.
var waits = func() map[int]wait {
	m := map[int]wait{
		unix.SYS_READ:            {waitEvent, 0},
		unix.SYS_READV:           {waitEvent, 0},
		unix.SYS_PREAD64:         {waitEvent, 0},
		unix.SYS_RECVFROM:        {waitEvent, 0},
		unix.SYS_RECVMSG:         {waitEvent, 0},
		unix.SYS_ACCEPT4:         {waitEvent, 0},
		unix.SYS_WAIT4:           {waitEvent, 0},
		unix.SYS_WAITID:          {waitEvent, 0},
		unix.SYS_RT_SIGSUSPEND:   {waitEvent, 0},
		unix.SYS_MSGRCV:          {waitEvent, 0},
		unix.SYS_RT_SIGTIMEDWAIT: {waitRelative, 2},
		unix.SYS_PPOLL:           {waitRelative, 2},
		unix.SYS_PSELECT6:        {waitRelative, 4},
		unix.SYS_NANOSLEEP:       {waitRelative, 0},
		unix.SYS_EPOLL_PWAIT:     {waitMillis, 3},
		unix.SYS_CLOCK_NANOSLEEP: {waitClockNanosleep, 0},
		unix.SYS_FUTEX:           {waitFutex, 0},
	}
	for nr, w := range waitsArch {
		m[nr] = w
	}
	return m
}()
