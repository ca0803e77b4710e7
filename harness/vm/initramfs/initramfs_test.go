package initramfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cavaliergopher/cpio"
)

type member struct {
	mode cpio.FileMode
	data string
}

// readBack reads an archive with an independent cpio reader.
func readBack(t *testing.T, b []byte) ([]string, map[string]member) {
	t.Helper()
	r := cpio.NewReader(bytes.NewReader(b))
	var order []string
	got := map[string]member{}
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read back %s: %v", h.Name, err)
		}
		if h.Linkname != "" {
			data = []byte(h.Linkname)
		}
		order = append(order, h.Name)
		got[h.Name] = member{mode: h.Mode, data: string(data)}
	}
	return order, got
}

func TestWriteAgentArchive(t *testing.T) {
	init := filepath.Join(t.TempDir(), "gpiohil")
	if err := os.WriteFile(init, []byte("not really an ELF binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, Agent(init)); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive is %d bytes, want a multiple of 4", buf.Len())
	}
	order, got := readBack(t, buf.Bytes())
	if m := got["init"]; m.data != "not really an ELF binary" || !m.mode.IsRegular() || m.mode.Perm() != 0o755 {
		t.Errorf("init = %+v, want the source bytes as a 0755 regular file", m)
	}
	if m := got["dev/console"]; m.mode&^cpio.ModePerm != cpio.TypeChar {
		t.Errorf("dev/console mode = %o, want a character device", m.mode)
	}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "newroot"} {
		if !got[d].mode.IsDir() {
			t.Errorf("%s missing or not a directory: %+v", d, got[d])
		}
	}
	if idx(order, "dev") > idx(order, "dev/console") {
		t.Errorf("dev written after dev/console: %v", order)
	}
	// The device numbers sit at fixed header offsets (rdevmajor, rdevminor) of the newc format.
	i := bytes.Index(buf.Bytes(), []byte("dev/console\x00"))
	hdr := string(buf.Bytes()[i-110 : i])
	if maj, min := hdr[78:86], hdr[86:94]; maj != "00000005" || min != "00000001" {
		t.Errorf("dev/console rdev = %s:%s, want 00000005:00000001", maj, min)
	}
}

func TestWriteAddsParentsFirst(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, []Entry{
		{Path: "/a/b/c.txt", Mode: 0o644, Data: []byte("hello")},
		{Path: "/a/link", Mode: os.ModeSymlink | 0o777, Target: "b/c.txt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	order, got := readBack(t, buf.Bytes())
	if strings.Join(order, " ") != "a a/link a/b a/b/c.txt" {
		t.Errorf("order = %v, want parents before children", order)
	}
	if got["a/b/c.txt"].data != "hello" {
		t.Errorf("a/b/c.txt = %q", got["a/b/c.txt"].data)
	}
	if got["a/link"].data != "b/c.txt" || got["a/link"].mode&^cpio.ModePerm != cpio.TypeSymlink {
		t.Errorf("a/link = %+v, want a symlink to b/c.txt", got["a/link"])
	}
}

func TestWriteRejectsBadEntries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"relative", []Entry{{Path: "init", Mode: 0o755}}, `"init" must be absolute`},
		{"unclean", []Entry{{Path: "/a/../init", Mode: 0o755}}, "must be absolute and clean"},
		{"twice", []Entry{Dir("/a"), Dir("/a")}, "/a given twice"},
		{"file as parent", []Entry{{Path: "/a", Mode: 0o644}, Dir("/a/b")}, "/a/b needs /a to be a directory"},
		{"missing source", []Entry{File("/init", "/nonexistent/gpiohil", 0o755)}, "/init: open /nonexistent/gpiohil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(io.Discard, tc.entries)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func idx(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func ExampleWrite() {
	var buf bytes.Buffer
	_ = Write(&buf, []Entry{CharDev("/dev/console", 5, 1), {Path: "/etc/motd", Mode: 0o644, Data: []byte("hi\n")}})
	r := cpio.NewReader(&buf)
	for {
		h, err := r.Next()
		if err != nil {
			break
		}
		fmt.Println(h.Name, h.Mode)
	}
	// Output:
	// dev 040755
	// etc 040755
	// dev/console 020600
	// etc/motd 0100644
}
