package launch

import (
	"bytes"
	"testing"
)

func TestPrefixWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	lw := &lockedWriter{w: &out}
	a, b := &prefixWriter{w: lw, prefix: "[vm 1/2] "}, &prefixWriter{w: lw, prefix: "[vm 2/2] "}
	a.Write([]byte("one\ntw"))
	b.Write([]byte("three\n"))
	a.Write([]byte("o\nfour"))
	a.Flush()
	b.Flush()
	want := "[vm 1/2] one\n[vm 2/2] three\n[vm 1/2] two\n[vm 1/2] four\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
