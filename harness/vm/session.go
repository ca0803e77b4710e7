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

// SessionResult is how a session ended.
type SessionResult struct {
	Code       int
	Signal     string
	Kernel     string        // the guest kernel's release
	Boot       time.Duration // from starting QEMU until the agent said it was ready
	Uptime     time.Duration // the guest's uptime when the agent said it was ready
	Total      time.Duration // from starting QEMU until it ended
	PoweredOff bool          // the guest ended QEMU itself, after reporting
}

// Run starts QEMU and collects the run. Its errors are *TimeoutError, *GuestError, the
// context's error, or an error starting QEMU.
func (s Session) Run(ctx context.Context) (res SessionResult, err error) {
	ln, err := net.Listen("unix", s.Socket)
	if err != nil {
		return res, fmt.Errorf("vm: %w", err)
	}
	defer ln.Close()

	console := newRing(consoleLines, s.Console)
	var qerr bytes.Buffer
	cmd := exec.Command(s.QEMU, s.Args...)
	cmd.Stdout = console
	cmd.Stderr = &limitedWriter{w: &qerr, n: 16 << 10}
	// QEMU dies with us, even when we are killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("vm: start %s: %w", s.QEMU, err)
	}
	qemuDone := make(chan error, 1)
	go func() { qemuDone <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-qemuDone
		console.Close()
		res.Total = time.Since(start)
	}()
	guestErr := func(reason string) error { return &GuestError{Reason: reason, Console: console.Lines()} }

	deadline := time.NewTimer(s.Timeout)
	defer deadline.Stop()
	timeout := func() error { return &TimeoutError{Timeout: s.Timeout, Console: console.Lines()} }

	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			conns <- c
		}
	}()
	var conn net.Conn
	select {
	case conn = <-conns:
	case werr := <-qemuDone:
		qemuDone <- werr
		return res, guestErr(fmt.Sprintf("QEMU ended before %s started (%v): %s", s.Name, werr, strings.TrimSpace(qerr.String())))
	case <-deadline.C:
		return res, timeout()
	case <-ctx.Done():
		return res, ctx.Err()
	}
	defer conn.Close()

	frames := make(chan wire.Frame, 64)
	readErr := make(chan error, 1)
	// The loop below sets its frames variable to nil when it stops listening: hand the reader
	// the channel itself.
	go func(frames chan<- wire.Frame) {
		br := bufio.NewReader(conn)
		if s.SkipNoise {
			if err := skipToReady(br); err != nil {
				readErr <- err
				close(frames)
				return
			}
		}
		r := wire.NewReader(br)
		for {
			f, err := r.Next()
			if err != nil {
				readErr <- err
				close(frames)
				return
			}
			frames <- f
		}
	}(frames)

	var exit *wire.ExitStatus
	var fatal string
	var grace <-chan time.Time
	qd := qemuDone
	for frames != nil || qd != nil {
		select {
		case f, ok := <-frames:
			if !ok {
				frames = nil
				if e := <-readErr; e != io.EOF && exit == nil && fatal == "" {
					fatal = "host channel: " + e.Error()
				}
				continue
			}
			switch f.Kind {
			case wire.Ready:
				res.Boot = time.Since(start)
				var h wire.Hello
				if err := h.UnmarshalBinary(f.Payload); errors.Is(err, wire.ErrProtocol) {
					return res, guestErr(fmt.Sprintf("the guest agent's first frame is a %v: the agent binary is from another build; build both from one tree (make build)", err))
				} else if err != nil {
					return res, guestErr("bad Ready frame from the guest agent: " + err.Error())
				}
				res.Kernel = h.Kernel
				if fs := strings.Fields(h.Uptime); len(fs) > 0 {
					if sec, err := strconv.ParseFloat(fs[0], 64); err == nil {
						res.Uptime = time.Duration(sec * float64(time.Second))
					}
				}
			case wire.Stdout:
				write(s.Stdout, f.Payload)
			case wire.Stderr:
				write(s.Stderr, f.Payload)
			case wire.Log:
				console.Write(append([]byte("agent: "), append(f.Payload, '\n')...))
			case wire.File:
				if s.OnFile == nil {
					return res, guestErr("the guest sent a file, but nothing here takes files")
				}
				if err := s.OnFile(f.Payload); err != nil {
					return res, err
				}
			case wire.Exit:
				exit = &wire.ExitStatus{}
				if err := exit.UnmarshalBinary(f.Payload); err != nil {
					return res, guestErr("bad exit status from the guest: " + err.Error())
				}
				grace = time.After(exitGrace)
			case wire.Fatal:
				fatal = "guest agent failed: " + string(f.Payload)
				grace = time.After(exitGrace)
			}
		case werr := <-qd:
			qd = nil
			qemuDone <- werr // for the deferred wait
			res.PoweredOff = exit != nil || fatal != ""
			if frames != nil {
				// QEMU is gone, so the socket is closed: drain what is left, then stop.
				conn.SetReadDeadline(time.Now().Add(time.Second))
			}
		case <-grace:
			// The guest said what it had to say but did not power off: not the command's fault.
			fmt.Fprintf(s.Stderr, "gpiohil: %s did not power off within %v of finishing; killed it\n", s.Name, exitGrace)
			frames, qd = nil, nil
		case <-deadline.C:
			return res, timeout()
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	switch {
	case fatal != "":
		return res, guestErr(fatal)
	case exit == nil:
		return res, guestErr(s.Name + " ended without reporting an exit status (kernel panic or agent crash)")
	}
	if exit.Error != "" {
		fmt.Fprintf(s.Stderr, "gpiohil vm: %s\n", exit.Error)
	}
	res.Code, res.Signal = exit.Code, exit.Signal
	return res, nil
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
