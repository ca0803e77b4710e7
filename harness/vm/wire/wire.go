// Package wire is the framing protocol between gpiohil on the host and its agent inside the VM.
//
// The host hands the guest a [GuestConfig] as a file in the initramfs, encoded as codec.go
// describes, like the agent's [Hello] and [ExitStatus]. From then on they
// share one serial line (the guest's ttyS1, a Unix socket on the host). Each message is a
// frame: a magic byte, a kind byte, a big-endian uint32 payload length and the payload. The
// guest announces itself with [Ready], then streams the command's [Stdout] and [Stderr] and ends
// with one [Exit] (or [Fatal] when the agent itself fails). [Log] carries the agent's own
// diagnostics. Where the guest cannot share a directory with the host (QEMU's raspi3b has no
// virtio), files the command leaves, such as JUnit reports, travel as [File] frames before the
// [Exit] frame.
package wire

import (
	"bufio"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/sim"
)

// Protocol is the version of this protocol and of GuestConfig. The agent reports it in its
// Hello; the host refuses an agent from a build that speaks another one (a stale
// gpiohil-agent next to a newer gpiohil). Bump it with every change to a frame or to the
// configuration's meaning.
const Protocol = 3

// Magic starts every frame, so a desynchronised stream is noticed at once.
const Magic = 0xA7

// MaxPayload bounds one frame's payload; larger writes are split into several frames.
const MaxPayload = 1 << 16

// Kind says what a frame carries.
type Kind byte

// Frame kinds.
const (
	Ready  Kind = 'R' // guest to host: the agent is up; payload: an encoded Hello
	Stdout Kind = 'O' // guest to host: bytes the command wrote to its stdout
	Stderr Kind = 'E' // guest to host: bytes the command wrote to its stderr
	Log    Kind = 'L' // guest to host: one line of the agent's own diagnostics
	Exit   Kind = 'X' // guest to host: the command ended; payload: an encoded ExitStatus
	Fatal  Kind = 'F' // guest to host: the agent failed; payload: the error text
	File   Kind = 'P' // guest to host: a piece of a file; payload: see [Writer.WriteFile]
)

func (k Kind) String() string {
	switch k {
	case Ready, Stdout, Stderr, Log, Exit, Fatal, File:
		return string(rune(k))
	}
	return fmt.Sprintf("0x%02x", byte(k))
}

// ErrBadMagic is returned by [Reader.Next] when the stream is not at a frame boundary.
var ErrBadMagic = errors.New("bad frame magic")

// Frame is one message.
type Frame struct {
	Kind    Kind
	Payload []byte
}

// Hello is the payload of a Ready frame.
type Hello struct {
	Kernel string // uname release of the guest kernel
	Uptime string // /proc/uptime when the agent started
	Agent  string // version of the agent
	// Protocol is the agent's [Protocol]; 0 from agents older than the field.
	Protocol int
}

// Share is a host directory the guest mounts over 9p.
type Share struct {
	Tag      string // the 9p mount tag QEMU exports it under
	Path     string // where it is mounted inside the guest's root
	ReadOnly bool   // mount read-only
}

// GuestConfig is everything the agent needs to run the command.
type GuestConfig struct {
	Args []string
	// Path is the program to run, looked up on the host when the guest would find the same
	// one (its PATH sees the host root); "" makes the guest look Args[0] up itself.
	Path  string
	Env   []string
	Dir   string
	Root  string  // mount tag of the host root file system
	Share []Share // further shares, mounted after the root
	Sim   []sim.Bank
	// Fault makes the agent fail on purpose at a named step; only tests set it.
	Fault string

	// Local runs the command from the initramfs itself instead of the host's root over 9p, for
	// machines without virtio (QEMU's raspi3b): Root and Share are then unused, debugfs and a
	// tmpfs on /tmp are mounted, and Modules are loaded first.
	Local   bool
	Modules []string // kernel modules (.ko paths in the guest) to load; Local only
	// Outbox is a directory in the guest whose regular files are sent to the host as File frames
	// once the command has ended, before the Exit frame.
	Outbox string
}

// ExitStatus is the payload of an Exit frame.
type ExitStatus struct {
	Code   int    // exit status, or 128+signal when killed by a signal
	Signal string // the signal that killed the command, if any
	Error  string // why the command could not start, if it did not
}

// Writer writes frames. It is not safe for concurrent use; wrap it in a lock when several
// goroutines write.
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write sends payload as one or more frames of the given kind.
func (fw *Writer) Write(kind Kind, payload []byte) error {
	for {
		n := min(len(payload), MaxPayload)
		var hdr [6]byte
		hdr[0] = Magic
		hdr[1] = byte(kind)
		binary.BigEndian.PutUint32(hdr[2:], uint32(n))
		if _, err := fw.w.Write(append(hdr[:], payload[:n]...)); err != nil {
			return fmt.Errorf("write %s frame: %w", kind, err)
		}
		payload = payload[n:]
		if len(payload) == 0 {
			return nil
		}
	}
}

// WriteValue sends v (a Hello or an ExitStatus), encoded (codec.go), as one frame.
func (fw *Writer) WriteValue(kind Kind, v encoding.BinaryMarshaler) error {
	b, err := v.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode %s frame: %w", kind, err)
	}
	if len(b) > MaxPayload {
		return fmt.Errorf("encode %s frame: %d bytes is over the %d byte limit", kind, len(b), MaxPayload)
	}
	return fw.Write(kind, b)
}

// MaxFileName bounds the name a File frame carries.
const MaxFileName = 1024

// fileHeader is the size of a File payload's fixed part: the offset and the name's length.
const fileHeader = 8 + 2

// WriteFile sends the content of r as File frames under name, a slash-separated path relative
// to wherever the host puts files. Each frame's payload is the chunk's offset in the file
// (big-endian uint64), the name's length (big-endian uint16), the name and the chunk. The frame
// at offset 0 creates the file, so an empty file is one frame with no chunk.
func (fw *Writer) WriteFile(name string, r io.Reader) error {
	if name == "" || len(name) > MaxFileName {
		return fmt.Errorf("write file frame: name %q: want 1 to %d bytes", name, MaxFileName)
	}
	buf := make([]byte, MaxPayload)
	hdr := fileHeader + len(name)
	var off uint64
	for {
		n, err := io.ReadFull(r, buf[hdr:])
		if n > 0 || off == 0 {
			binary.BigEndian.PutUint64(buf[0:], off)
			binary.BigEndian.PutUint16(buf[8:], uint16(len(name)))
			copy(buf[fileHeader:], name)
			if werr := fw.Write(File, buf[:hdr+n]); werr != nil {
				return werr
			}
			off += uint64(n)
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return fmt.Errorf("write file frame %s: %w", name, err)
		}
	}
}

// ParseFile splits a File frame's payload into the file's name, the chunk's offset and the chunk.
func ParseFile(payload []byte) (name string, off int64, chunk []byte, err error) {
	if len(payload) < fileHeader {
		return "", 0, nil, fmt.Errorf("file frame of %d bytes is shorter than its header", len(payload))
	}
	o := binary.BigEndian.Uint64(payload[0:])
	n := int(binary.BigEndian.Uint16(payload[8:]))
	if n == 0 || n > MaxFileName || fileHeader+n > len(payload) || o > 1<<62 {
		return "", 0, nil, fmt.Errorf("file frame: bad header (name length %d, offset %d, payload %d bytes)", n, o, len(payload))
	}
	return string(payload[fileHeader : fileHeader+n]), int64(o), payload[fileHeader+n:], nil
}

// Reader reads frames.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 2*MaxPayload)} }

// Next returns the next frame. It returns io.EOF at a clean end of stream, io.ErrUnexpectedEOF
// when the stream ends inside a frame, and ErrBadMagic when the stream is out of step.
func (fr *Reader) Next() (Frame, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(fr.r, hdr[:1]); err != nil {
		return Frame{}, err
	}
	if hdr[0] != Magic {
		return Frame{}, fmt.Errorf("%w: got 0x%02x, want 0x%02x", ErrBadMagic, hdr[0], Magic)
	}
	if _, err := io.ReadFull(fr.r, hdr[1:]); err != nil {
		return Frame{}, unexpected(err)
	}
	n := binary.BigEndian.Uint32(hdr[2:])
	if n > MaxPayload {
		return Frame{}, fmt.Errorf("frame %s: payload of %d bytes is over the %d byte limit", Kind(hdr[1]), n, MaxPayload)
	}
	f := Frame{Kind: Kind(hdr[1]), Payload: make([]byte, n)}
	if _, err := io.ReadFull(fr.r, f.Payload); err != nil {
		return Frame{}, unexpected(err)
	}
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// StreamWriter is an io.Writer that sends everything written to it as frames of one kind.
type StreamWriter struct {
	Kind Kind
	Send func(Kind, []byte) error
}

func (s StreamWriter) Write(p []byte) (int, error) {
	if err := s.Send(s.Kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
