package wire

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/sim"
)

func TestCodecRoundTrips(t *testing.T) {
	full := GuestConfig{
		Args: []string{"sh", "-c", "echo 'é' \x00 done"}, Path: "/usr/bin/sh", Env: []string{"A=1", "PATH=/usr/bin", ""},
		Dir: "/work", Root: "hostroot",
		Share: []Share{{Tag: "work", Path: "/work"}, {Tag: "s0", Path: "/tmp/x", ReadOnly: true}},
		Sim:   []sim.Bank{{Label: "gpiohil-a", Lines: []string{"dut", "neighbour"}}, {Label: "b"}},
		Fault: "panic", Local: true, Modules: []string{"/lib/m.ko"}, Outbox: "/out",
	}
	for _, in := range []GuestConfig{full, {}, {Args: []string{"true"}}} {
		b, _ := in.MarshalBinary()
		var out GuestConfig
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("round trip:\n in  %+v\n out %+v", in, out)
		}
	}
	h := Hello{Kernel: "6.12.117", Uptime: "0.84 0.05", Agent: "gpiohil", Protocol: Protocol}
	b, _ := h.MarshalBinary()
	var h2 Hello
	if err := h2.UnmarshalBinary(b); err != nil || h2 != h {
		t.Errorf("hello: %+v, %v; want %+v", h2, err, h)
	}
	for _, s := range []ExitStatus{{Code: 0}, {Code: 137, Signal: "SIGKILL"}, {Code: 127, Error: "not found"}, {Code: -1}} {
		b, _ := s.MarshalBinary()
		var s2 ExitStatus
		if err := s2.UnmarshalBinary(b); err != nil || s2 != s {
			t.Errorf("exit status: %+v, %v; want %+v", s2, err, s)
		}
	}
}

func TestCodecRefusesOtherProtocolsAndDamage(t *testing.T) {
	var h Hello
	err := h.UnmarshalBinary([]byte(`{"kernel":"6.1","agent":"gpiohil"}`))
	var pe *ProtocolError
	if !errors.As(err, &pe) || !pe.JSON || !errors.Is(err, ErrProtocol) {
		t.Errorf("a JSON hello (old agent): %v, want a protocol error naming JSON", err)
	}
	old, _ := Hello{Kernel: "k", Protocol: Protocol - 1}.MarshalBinary()
	if err := h.UnmarshalBinary(old); !errors.As(err, &pe) || pe.Got != Protocol-1 || !strings.Contains(err.Error(), "want") {
		t.Errorf("an older protocol: %v", err)
	}
	cfg, _ := GuestConfig{Args: []string{"true"}, Env: []string{"A=1"}, Share: []Share{{Tag: "w", Path: "/w"}}}.MarshalBinary()
	for i := range len(cfg) {
		var c GuestConfig
		if err := c.UnmarshalBinary(cfg[:i]); err == nil {
			t.Errorf("a configuration cut to %d of %d bytes decoded without error: %+v", i, len(cfg), c)
		}
	}
	var c GuestConfig
	if err := c.UnmarshalBinary(append(cfg, 0)); err == nil || !strings.Contains(err.Error(), "after the message's end") {
		t.Errorf("a trailing byte: %v", err)
	}
	// A list claiming more elements than there are bytes is refused, not allocated.
	huge := binary.BigEndian.AppendUint16(nil, Protocol)
	huge = binary.AppendUvarint(huge, 1<<40)
	if err := c.UnmarshalBinary(huge); err == nil {
		t.Error("a list of 2^40 strings decoded")
	}
}
