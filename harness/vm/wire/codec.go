package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gpiohil/gpiohil/harness/sim"
)

// The agent's messages (Hello, ExitStatus) and the configuration it reads (GuestConfig) are
// encoded in a small binary form rather than JSON: under emulation the first use of
// encoding/json, with its reflection, cost the agent 15 ms and more at every boot, where these
// few hand-written fields cost nothing measurable. Every message starts with the protocol
// version as a big-endian uint16, so one from another build is recognised before anything in
// it is read; then come its fields in a fixed order: strings as a uvarint length and the
// bytes, string lists as a uvarint count and the strings, integers as varints, booleans as one
// byte.

// ErrProtocol is matched by the error for a message encoded by another build's protocol.
var ErrProtocol = errors.New("another protocol")

// ProtocolError says which protocol a message was encoded with.
type ProtocolError struct {
	Got  int  // the message's protocol version; -1 when it does not say (JSON, from before version 3)
	JSON bool // the message is JSON (agents before version 3)
}

func (e *ProtocolError) Error() string {
	if e.JSON {
		return fmt.Sprintf("message in JSON (protocol 2 or older), want protocol %d", Protocol)
	}
	return fmt.Sprintf("message in protocol %d, want %d", e.Got, Protocol)
}

// Is makes ProtocolError match ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

type encoder struct{ b []byte }

func newEncoder(version int) *encoder {
	return &encoder{b: binary.BigEndian.AppendUint16(nil, uint16(version))}
}

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) int(i int) { e.b = binary.AppendVarint(e.b, int64(i)) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

type decoder struct {
	b   []byte
	err error
}

// newDecoder checks the protocol version in front of b.
func newDecoder(b []byte) (*decoder, error) {
	if len(b) > 0 && b[0] == '{' {
		return nil, &ProtocolError{Got: -1, JSON: true}
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("message of %d bytes is too short to be one", len(b))
	}
	if v := int(binary.BigEndian.Uint16(b)); v != Protocol {
		return nil, &ProtocolError{Got: v}
	}
	return &decoder{b: b[2:]}, nil
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("message ends inside %s", what)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint("a string's length")
	if n > uint64(len(d.b)) {
		d.fail("a string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.uvarint("a list's length")
	if n > uint64(len(d.b)) { // every string takes at least one byte
		d.fail("a list")
		return nil
	}
	if n == 0 {
		return nil
	}
	var ss []string
	for range n {
		ss = append(ss, d.str())
	}
	return ss
}

func (d *decoder) int() int {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("an integer")
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail("a boolean")
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

// done returns the first error, or one for bytes left over.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("%d bytes after the message's end", len(d.b))
	}
	return d.err
}

// MarshalBinary encodes h, in protocol h.Protocol (Protocol when 0; tests send others).
func (h Hello) MarshalBinary() ([]byte, error) {
	v := h.Protocol
	if v == 0 {
		v = Protocol
	}
	e := newEncoder(v)
	e.str(h.Kernel)
	e.str(h.Uptime)
	e.str(h.Agent)
	return e.b, nil
}

// UnmarshalBinary decodes a Hello; an error matching ErrProtocol means another build's agent.
func (h *Hello) UnmarshalBinary(b []byte) error {
	d, err := newDecoder(b)
	if err != nil {
		return err
	}
	*h = Hello{Kernel: d.str(), Uptime: d.str(), Agent: d.str(), Protocol: Protocol}
	return d.done()
}

// MarshalBinary encodes s.
func (s ExitStatus) MarshalBinary() ([]byte, error) {
	e := newEncoder(Protocol)
	e.int(s.Code)
	e.str(s.Signal)
	e.str(s.Error)
	return e.b, nil
}

// UnmarshalBinary decodes an ExitStatus.
func (s *ExitStatus) UnmarshalBinary(b []byte) error {
	d, err := newDecoder(b)
	if err != nil {
		return err
	}
	*s = ExitStatus{Code: d.int(), Signal: d.str(), Error: d.str()}
	return d.done()
}

// MarshalBinary encodes c.
func (c GuestConfig) MarshalBinary() ([]byte, error) {
	e := newEncoder(Protocol)
	e.strs(c.Args)
	e.str(c.Path)
	e.strs(c.Env)
	e.str(c.Dir)
	e.str(c.Root)
	e.int(len(c.Share))
	for _, s := range c.Share {
		e.str(s.Tag)
		e.str(s.Path)
		e.bool(s.ReadOnly)
	}
	e.int(len(c.Sim))
	for _, b := range c.Sim {
		e.str(b.Label)
		e.strs(b.Lines)
	}
	e.str(c.Fault)
	e.bool(c.Local)
	e.strs(c.Modules)
	e.str(c.Outbox)
	return e.b, nil
}

// UnmarshalBinary decodes a GuestConfig.
func (c *GuestConfig) UnmarshalBinary(b []byte) error {
	d, err := newDecoder(b)
	if err != nil {
		return err
	}
	*c = GuestConfig{Args: d.strs(), Path: d.str(), Env: d.strs(), Dir: d.str(), Root: d.str()}
	n := d.int()
	if n < 0 || n > len(d.b) {
		d.fail("the shares")
		n = 0
	}
	for range n {
		c.Share = append(c.Share, Share{Tag: d.str(), Path: d.str(), ReadOnly: d.bool()})
	}
	n = d.int()
	if n < 0 || n > len(d.b) {
		d.fail("the sim banks")
		n = 0
	}
	for range n {
		c.Sim = append(c.Sim, sim.Bank{Label: d.str(), Lines: d.strs()})
	}
	c.Fault, c.Local, c.Modules, c.Outbox = d.str(), d.bool(), d.strs(), d.str()
	return d.done()
}
