package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vm/wire"
)

// Session is one QEMU run with gpiohil's agent as the guest's first process: QEMU connects a
// guest serial port to Socket, and Run reads the agent's frames from it until the command's
// exit status arrives and QEMU has ended. Both lanes (the x86 gpio-sim VM and the emulated
// Raspberry Pi) run their QEMU through it.
type Session struct {
	QEMU    string   // the QEMU binary
	Args    []string // QEMU's command line; its channel serial port connects to Socket
	Socket  string   // Unix socket path Run listens on before starting QEMU
	Name    string   // what to call the guest in messages, e.g. "the VM"
	Timeout time.Duration

	Stdout, Stderr io.Writer // the command's output; Stderr also gets gpiohil's own notes
	Console        io.Writer // when set, the guest console is copied here as it arrives

	// OnFile handles File frames (files the guest sends back); nil makes one an error.
	OnFile func(payload []byte) error
	// SkipNoise discards bytes before the first Ready frame: some UARTs emit a stray byte
	// when their driver probes them, before the agent opens the port.
	SkipNoise bool
}

// Run starts QEMU and collects the run: it waits for the guest agent to connect, hands each
// of its frames to the session, and ends when the channel and QEMU have both ended (or the
// exit grace, the deadline or ctx cut it short). It fills Result's fields but Accel and Files,
// which are the lane's. Its errors are *TimeoutError, *GuestError, the context's error, or an
// error starting QEMU.
func (s Session) Run(ctx context.Context) (res Result, err error) {
	if len(s.Socket) > maxSocketPath {
		return res, fmt.Errorf("vm: the channel socket path %s is %d bytes, over the %d a Unix socket takes; set TMPDIR to a shorter directory", s.Socket, len(s.Socket), maxSocketPath)
	}
	ln, err := net.Listen("unix", s.Socket)
	if err != nil {
		return res, fmt.Errorf("vm: %w", err)
	}
	defer ln.Close()
	st, err := s.startQEMU()
	if err != nil {
		return res, err
	}
	defer func() { res.Total = st.stopQEMU() }()
	deadline := time.NewTimer(s.Timeout)
	defer deadline.Stop()
	if err := st.awaitGuest(ctx, ln, deadline.C); err != nil {
		return st.res, err
	}
	defer st.conn.Close()
	return st.collect(ctx, deadline.C)
}

// maxSocketPath is the longest path a Unix socket takes on Linux (sun_path is 108 bytes,
// one for the terminating NUL).
const maxSocketPath = 107

// session is one Session's run in progress: QEMU, the channel to the agent, and what the
// agent's frames said so far.
type session struct {
	Session
	cmd      *exec.Cmd
	start    time.Time
	console  *ring
	qemuErr  bytes.Buffer // the first 16 KiB QEMU wrote to its stderr
	qemuDone chan error   // cmd.Wait's result; whoever takes it puts it back for stopQEMU
	conn     net.Conn     // the channel, once the agent connected

	res     Result
	exit    *wire.ExitStatus // the command's exit status, once reported
	fatal   string           // why the guest failed, once known
	chanErr error            // why the channel ended, when not cleanly
	killed  syscall.Signal   // the signal that killed QEMU, when one did
	grace   <-chan time.Time // fires exitGrace after the agent said its last word
}

// startQEMU starts QEMU in its own process group, its stdout (the guest console) kept in a ring.
func (s Session) startQEMU() (*session, error) {
	st := &session{Session: s, console: newRing(consoleLines, s.Console), qemuDone: make(chan error, 1)}
	st.cmd = exec.Command(s.QEMU, s.Args...)
	st.cmd.Stdout = st.console
	st.cmd.Stderr = &limitedWriter{w: &st.qemuErr, n: 16 << 10}
	// QEMU dies with us, even when we are killed.
	st.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	st.start = time.Now()
	if err := st.cmd.Start(); err != nil {
		return nil, fmt.Errorf("vm: start %s: %w", s.QEMU, err)
	}
	go func() { st.qemuDone <- st.cmd.Wait() }()
	return st, nil
}

// stopQEMU kills QEMU's process group, waits for it and returns how long it ran.
func (st *session) stopQEMU() time.Duration {
	syscall.Kill(-st.cmd.Process.Pid, syscall.SIGKILL)
	<-st.qemuDone
	st.console.Close()
	return time.Since(st.start)
}

// awaitGuest waits for the guest agent to connect to the channel, unless QEMU ends first or
// the deadline or ctx comes.
func (st *session) awaitGuest(ctx context.Context, ln net.Listener, deadline <-chan time.Time) error {
	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			conns <- c
		}
	}()
	select {
	case st.conn = <-conns:
		return nil
	case werr := <-st.qemuDone:
		st.qemuDone <- werr
		if sig, ok := killedBy(werr); ok {
			return st.killedErr(sig, "before "+st.Name+" started")
		}
		return st.guestErr(fmt.Sprintf("QEMU ended before %s started (%v): %s", st.Name, werr, strings.TrimSpace(st.qemuErr.String())))
	case <-deadline:
		return st.timeoutErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// collect hands every frame from the agent to handle until the channel and QEMU have both
// ended, or the exit grace, the deadline or ctx ends the wait, then says how the command ended.
func (st *session) collect(ctx context.Context, deadline <-chan time.Time) (Result, error) {
	frames := make(chan wire.Frame, 64)
	readErr := make(chan error, 1)
	go readFrames(st.conn, st.SkipNoise, frames, readErr)
	// Each is set to nil once it has nothing more to say.
	in, qemuDone := (<-chan wire.Frame)(frames), st.qemuDone
	for in != nil || qemuDone != nil {
		select {
		case f, ok := <-in:
			if !ok {
				in = nil
				st.channelEnded(<-readErr)
			} else if err := st.handle(f); err != nil {
				return st.res, err
			}
		case werr := <-qemuDone:
			qemuDone = nil
			st.qemuEnded(werr, in != nil)
		case <-st.grace:
			// The guest said what it had to say but did not power off: not the command's fault.
			fmt.Fprintf(st.Stderr, "gpiohil: %s did not power off within %v of finishing; killed it\n", st.Name, exitGrace)
			in, qemuDone = nil, nil
		case <-deadline:
			return st.res, st.timeoutErr()
		case <-ctx.Done():
			return st.res, ctx.Err()
		}
	}
	return st.result()
}

// readFrames reads the agent's frames from conn into frames until the channel ends, then puts
// why on readErr (io.EOF for a clean end) and closes frames.
func readFrames(conn net.Conn, skipNoise bool, frames chan<- wire.Frame, readErr chan<- error) {
	br := bufio.NewReader(conn)
	var err error
	if skipNoise {
		err = skipToReady(br)
	}
	r := wire.NewReader(br)
	for err == nil {
		var f wire.Frame
		if f, err = r.Next(); err == nil {
			frames <- f
		}
	}
	readErr <- err
	close(frames)
}

// handle acts on one frame from the agent. An error ends the session with it.
func (st *session) handle(f wire.Frame) error {
	switch f.Kind {
	case wire.Ready:
		return st.ready(f.Payload)
	case wire.Stdout:
		write(st.Stdout, f.Payload)
	case wire.Stderr:
		write(st.Stderr, f.Payload)
	case wire.Log:
		st.console.Write(append([]byte("agent: "), append(f.Payload, '\n')...))
	case wire.File:
		if st.OnFile == nil {
			return st.guestErr("the guest sent a file, but nothing here takes files")
		}
		return st.OnFile(f.Payload)
	case wire.Exit:
		st.exit = &wire.ExitStatus{}
		if err := st.exit.UnmarshalBinary(f.Payload); err != nil {
			return st.guestErr("bad exit status from the guest: " + err.Error())
		}
		st.grace = time.After(exitGrace)
	case wire.Fatal:
		st.fatal = "guest agent failed: " + string(f.Payload)
		st.grace = time.After(exitGrace)
	}
	return nil
}

// ready takes the agent's Ready frame: the boot time, the guest's kernel and uptime.
func (st *session) ready(payload []byte) error {
	st.res.Boot = time.Since(st.start)
	var h wire.Hello
	if err := h.UnmarshalBinary(payload); errors.Is(err, wire.ErrProtocol) {
		return st.guestErr(fmt.Sprintf("the guest agent's first frame is a %v: the agent binary is from another build; build both from one tree (make build)", err))
	} else if err != nil {
		return st.guestErr("bad Ready frame from the guest agent: " + err.Error())
	}
	st.res.Kernel = h.Kernel
	if fs := strings.Fields(h.Uptime); len(fs) > 0 {
		if sec, err := strconv.ParseFloat(fs[0], 64); err == nil {
			st.res.Uptime = time.Duration(sec * float64(time.Second))
		}
	}
	return nil
}

// channelEnded takes why the channel ended: anything but a clean end before the agent
// reported is the guest's failure, unless QEMU was killed (result says which).
func (st *session) channelEnded(err error) {
	if err != io.EOF {
		st.chanErr = err
	}
}

// qemuEnded takes QEMU's end. It closed the socket: when the reader is still reading, what is
// left is drained for channelDrain, then the channel ends.
func (st *session) qemuEnded(werr error, reading bool) {
	st.qemuDone <- werr // for stopQEMU
	st.killed, _ = killedBy(werr)
	st.res.PoweredOff = (st.exit != nil || st.fatal != "") && st.killed == 0
	if reading {
		st.conn.SetReadDeadline(time.Now().Add(channelDrain))
	}
}

// result says how the run ended once nothing more can arrive. When the guest did not report
// an exit status, the first of these is the reason: the agent's own failure, QEMU killed by a
// signal from outside, a broken channel, and last a guest that ended by itself (a kernel panic
// or an agent crash).
func (st *session) result() (Result, error) {
	switch {
	case st.fatal != "":
		return st.res, st.guestErr(st.fatal)
	case st.exit != nil:
	case st.killed != 0:
		return st.res, st.killedErr(st.killed, "before "+st.Name+" reported an exit status")
	case st.chanErr != nil:
		return st.res, st.guestErr("host channel: " + st.chanErr.Error())
	default:
		return st.res, st.guestErr(st.Name + " ended without reporting an exit status (kernel panic or agent crash)")
	}
	if st.exit.Error != "" {
		fmt.Fprintf(st.Stderr, "gpiohil vm: %s\n", st.exit.Error)
	}
	st.res.Code, st.res.Signal = st.exit.Code, st.exit.Signal
	return st.res, nil
}

func (st *session) guestErr(reason string) error {
	return &GuestError{Reason: reason, Console: st.console.Lines()}
}

// killedErr reports QEMU killed by sig from outside gpiohil (gpiohil itself kills QEMU only
// once the session is over); when says at what point, e.g. "before the VM started".
func (st *session) killedErr(sig syscall.Signal, when string) error {
	return &GuestError{
		Reason: fmt.Sprintf("QEMU was killed by signal %d (%v) %s; something outside gpiohil killed it (the OOM killer, a user, a CI job's timeout)",
			int(sig), sig, when),
		Signal:  unix.SignalName(sig),
		Console: st.console.Lines(),
	}
}

// killedBy says whether a process whose Wait returned werr was killed by a signal, and which.
func killedBy(werr error) (syscall.Signal, bool) {
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

func (st *session) timeoutErr() error {
	return &TimeoutError{Timeout: st.Timeout, Console: st.console.Lines()}
}

// skipToReady discards bytes before the first Ready frame's magic.
func skipToReady(br *bufio.Reader) error {
	for {
		b, err := br.Peek(2)
		if err != nil {
			return err
		}
		if b[0] == wire.Magic && wire.Kind(b[1]) == wire.Ready {
			return nil
		}
		br.Discard(1)
	}
}

func write(w io.Writer, p []byte) {
	if w != nil {
		w.Write(p)
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// ring keeps the last lines of the console and copies everything to an optional writer.
type ring struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
	copy  io.Writer
}

func newRing(max int, copy io.Writer) *ring { return &ring{max: max, copy: copy} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.copy != nil {
		r.copy.Write(p)
	}
	r.part = append(r.part, p...)
	for {
		i := bytes.IndexByte(r.part, '\n')
		if i < 0 {
			break
		}
		r.add(string(r.part[:i]))
		r.part = r.part[i+1:]
	}
	return len(p), nil
}

func (r *ring) add(line string) {
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return
	}
	r.lines = append(r.lines, line)
	if len(r.lines) > r.max {
		r.lines = r.lines[len(r.lines)-r.max:]
	}
}

// Close keeps a last unterminated line.
func (r *ring) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.part) > 0 {
		r.add(string(r.part))
		r.part = nil
	}
}

// Lines returns the kept lines.
func (r *ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}
