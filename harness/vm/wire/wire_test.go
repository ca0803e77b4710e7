package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	big := bytes.Repeat([]byte("x"), 2*MaxPayload+10)
	if err := w.Write(Stdout, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(Stderr, big); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteValue(Exit, ExitStatus{Code: 42}); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	var got []Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	if len(got) != 5 {
		t.Fatalf("got %d frames, want 5 (1 + a large payload split in 3 + 1)", len(got))
	}
	if got[0].Kind != Stdout || string(got[0].Payload) != "hello" {
		t.Errorf("frame 0 = %s %q", got[0].Kind, got[0].Payload)
	}
	var joined []byte
	for _, f := range got[1:4] {
		if f.Kind != Stderr || len(f.Payload) > MaxPayload {
			t.Errorf("split frame %s of %d bytes", f.Kind, len(f.Payload))
		}
		joined = append(joined, f.Payload...)
	}
	if !bytes.Equal(joined, big) {
		t.Error("split payload does not join back to the original")
	}
	var st ExitStatus
	if got[4].Kind != Exit || st.UnmarshalBinary(got[4].Payload) != nil || st.Code != 42 {
		t.Errorf("frame 4 = %s %x", got[4].Kind, got[4].Payload)
	}
}

func TestReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		check func(error) bool
		want  string
	}{
		{"bad magic", []byte("garbage"), func(err error) bool { return errors.Is(err, ErrBadMagic) }, "got 0x67"},
		{"truncated header", []byte{Magic, 'O', 0}, func(err error) bool { return err == io.ErrUnexpectedEOF }, "unexpected EOF"},
		{"truncated payload", []byte{Magic, 'O', 0, 0, 0, 5, 'a'}, func(err error) bool { return err == io.ErrUnexpectedEOF }, "unexpected EOF"},
		{"too large", []byte{Magic, 'O', 0xff, 0, 0, 0}, func(err error) bool { return err != nil }, "over the 65536 byte limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.in)).Next()
			if !tc.check(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStreamWriter(t *testing.T) {
	var buf bytes.Buffer
	fw := NewWriter(&buf)
	sw := StreamWriter{Kind: Stderr, Send: fw.Write}
	if n, err := sw.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	f, err := NewReader(&buf).Next()
	if err != nil || f.Kind != Stderr || string(f.Payload) != "abc" {
		t.Errorf("frame = %s %q %v", f.Kind, f.Payload, err)
	}
}

func TestFileFrames(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	big := bytes.Repeat([]byte("0123456789"), MaxPayload/5) // over two frames' worth
	if err := w.WriteFile("junit/big.xml", bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("empty", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	got := map[string][]byte{}
	frames := 0
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind != File {
			t.Fatalf("frame kind %s, want %s", f.Kind, File)
		}
		frames++
		name, off, chunk, err := ParseFile(f.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if off != int64(len(got[name])) {
			t.Fatalf("%s: chunk at offset %d, want %d", name, off, len(got[name]))
		}
		got[name] = append(got[name], chunk...)
		if got[name] == nil {
			got[name] = []byte{}
		}
	}
	per := MaxPayload - fileHeader - len("junit/big.xml")
	if want := (len(big)+per-1)/per + 1; frames != want {
		t.Errorf("got %d frames, want %d: %d for the big file and 1 for the empty one", frames, want, want-1)
	}
	if !bytes.Equal(got["junit/big.xml"], big) {
		t.Errorf("big file: got %d bytes back, want %d equal ones", len(got["junit/big.xml"]), len(big))
	}
	if e, ok := got["empty"]; !ok || len(e) != 0 {
		t.Errorf("empty file: got %q (present %v), want an empty file", e, ok)
	}
}

func TestParseFileRejectsBadHeaders(t *testing.T) {
	for _, p := range [][]byte{
		nil,
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},         // no name
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 'a'},    // name longer than the payload
		{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a'}, // absurd offset
	} {
		if _, _, _, err := ParseFile(p); err == nil {
			t.Errorf("ParseFile(%v) succeeded, want an error", p)
		}
	}
	if err := NewWriter(io.Discard).WriteFile("", strings.NewReader("x")); err == nil {
		t.Error("WriteFile with an empty name succeeded, want an error")
	}
}
