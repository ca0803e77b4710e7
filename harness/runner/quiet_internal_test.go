package runner

import (
	"fmt"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestWaitsPast(t *testing.T) {
	// A skip on every 32-bit machine, whatever is installed: waitsPast reads timeouts through
	// pointers on 64-bit machines only, by design. Not gated by GPIOHIL_REQUIRE_VM.
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("timeouts through pointers are read on 64-bit machines only")
	}
	now := time.Now()
	start, until := now, now.Add(500*time.Millisecond)
	// Timeouts in this process's own memory, which waitsPast reads through /proc/PID/mem.
	long, short := unix.Timespec{Sec: 60}, unix.Timespec{Nsec: 10e6}
	var mono unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	farAbs := unix.NsecToTimespec(mono.Nano() + int64(time.Minute))
	nearAbs := unix.NsecToTimespec(mono.Nano() + int64(10*time.Millisecond))
	ptr := func(ts *unix.Timespec) uint64 { return uint64(uintptr(unsafe.Pointer(ts))) }
	line := func(nr int, args ...uint64) string {
		s := fmt.Sprint(nr)
		for i := range 6 {
			var a uint64
			if i < len(args) {
				a = args[i]
			}
			s += fmt.Sprintf(" 0x%x", a)
		}
		return s + " 0x7ffc00000000 0x400000\n"
	}
	const private = futexPrivateFlag
	for _, tc := range []struct {
		name string
		line string
		want bool
	}{
		{"not in a system call", "running\n", false},
		{"between system calls", "-1 0x7ffc00000000 0x400000\n", false},
		{"read: an event", line(unix.SYS_READ, 3, 0x1000, 64), true},
		{"rt_sigsuspend: an event", line(unix.SYS_RT_SIGSUSPEND, 0x1000, 8), true},
		{"getpid: not a wait", line(unix.SYS_GETPID), false},
		{"epoll_pwait without a timeout", line(unix.SYS_EPOLL_PWAIT, 4, 0x1000, 128, 0xffffffff), true},
		{"epoll_pwait for an hour", line(unix.SYS_EPOLL_PWAIT, 4, 0x1000, 128, 3_600_000), true},
		{"epoll_pwait for 100 ms", line(unix.SYS_EPOLL_PWAIT, 4, 0x1000, 128, 100), false},
		{"futex wait without a timeout", line(unix.SYS_FUTEX, 0x1000, private|futexWait, 0, 0), true},
		{"futex wait for a minute", line(unix.SYS_FUTEX, 0x1000, private|futexWait, 0, ptr(&long)), true},
		{"futex wait for 10 ms", line(unix.SYS_FUTEX, 0x1000, private|futexWait, 0, ptr(&short)), false},
		{"futex wait, timeout unreadable", line(unix.SYS_FUTEX, 0x1000, futexWait, 0, 0x10), false},
		{"futex wait-bitset until a minute from now", line(unix.SYS_FUTEX, 0x1000, private|futexWaitBitset, 0, ptr(&farAbs)), true},
		{"futex wait-bitset until 10 ms from now", line(unix.SYS_FUTEX, 0x1000, futexWaitBitset, 0, ptr(&nearAbs)), false},
		{"futex wake: not a wait", line(unix.SYS_FUTEX, 0x1000, 1, 1), false},
		{"nanosleep for a minute", line(unix.SYS_NANOSLEEP, ptr(&long), 0), true},
		{"nanosleep for 10 ms", line(unix.SYS_NANOSLEEP, ptr(&short), 0), false},
		{"clock_nanosleep until a minute from now", line(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, timerAbstime, ptr(&farAbs), 0), true},
		{"clock_nanosleep until 10 ms from now", line(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, timerAbstime, ptr(&nearAbs), 0), false},
		{"clock_nanosleep for 10 ms", line(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, 0, ptr(&short), 0), false},
		{"ppoll without a timeout", line(unix.SYS_PPOLL, 0x1000, 1, 0, 0), true},
		{"ppoll for 10 ms", line(unix.SYS_PPOLL, 0x1000, 1, ptr(&short), 0), false},
	} {
		if got := waitsPast(os.Getpid(), tc.line, start, until); got != tc.want {
			t.Errorf("%s: waitsPast(%q) = %v, want %v", tc.name, tc.line, got, tc.want)
		}
	}
}

func TestPendingSignalsAndFields(t *testing.T) {
	status := []byte("Name:\tx\nState:\tS (sleeping)\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\nvoluntary_ctxt_switches:\t12\n")
	if !pendingSignals(status) {
		t.Error("ShdPnd 4000: want a pending signal")
	}
	if field(status, "State:") != "S" || field(status, "voluntary_ctxt_switches:") != "12" {
		t.Errorf("fields: state %q, switches %q", field(status, "State:"), field(status, "voluntary_ctxt_switches:"))
	}
	if pendingSignals([]byte("SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n")) {
		t.Error("all zero: want no pending signal")
	}
}

func TestSameNeedsTwoQuietSamplesWithNoThreadRunning(t *testing.T) {
	a := quietSample{quiet: true, switches: map[string]int64{"1": 5, "2": 9}}
	b := quietSample{quiet: true, switches: map[string]int64{"1": 5, "2": 9}}
	ran := quietSample{quiet: true, switches: map[string]int64{"1": 5, "2": 10}}
	newThread := quietSample{quiet: true, switches: map[string]int64{"1": 5, "2": 9, "3": 0}}
	if !a.same(b) || a.same(ran) || a.same(newThread) || a.same(quietSample{}) || (quietSample{}).same(quietSample{}) {
		t.Error("same: want true only for two quiet samples with the same threads and switch counts")
	}
}
