package rpi3

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
)

// With a userland, gpiohil's entries under /bin, /sbin and /lib go under /usr, where the
// userland's merged-/usr symlinks point: a /lib directory of gpiohil's would replace the
// userland's /lib symlink when the kernel unpacks it, and the dynamic loader with it.
func TestMergedUsrMovesOnlyTheMergedDirectories(t *testing.T) {
	in := []initramfs.Entry{initramfs.Dir("/bin"), initramfs.File("/bin/busybox", "bb", 0o755),
		initramfs.File("/lib/modules/bcm2835_wdt.ko", "wdt", 0o644), initramfs.Dir("/sbin"),
		initramfs.File("/init", "agent", 0o755), initramfs.Dir("/library"), initramfs.Dir("/out")}
	var got []string
	for _, e := range mergedUsr(in) {
		got = append(got, e.Path)
	}
	want := []string{"/usr/bin", "/usr/bin/busybox", "/usr/lib/modules/bcm2835_wdt.ko", "/usr/sbin", "/init", "/library", "/out"}
	if !slices.Equal(got, want) {
		t.Errorf("mergedUsr paths %v; want %v", got, want)
	}
	if in[1].Path != "/bin/busybox" {
		t.Error("mergedUsr changed its argument")
	}
}

// The initramfs of a userland lane is the userland's archive, padded to 4 bytes, then
// gpiohil's archive with no entry under /bin or /lib; without a userland, gpiohil's alone,
// paths as they are.
func TestWriteInitrdPutsTheUserlandFirst(t *testing.T) {
	dir := t.TempDir()
	userland := filepath.Join(dir, "userland.cpio")
	if err := os.WriteFile(userland, []byte("USERLAND-ARCHIVE"), 0o644); err != nil { // 16 bytes
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "odd.cpio")
	if err := os.WriteFile(odd, []byte("ODD"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries := []initramfs.Entry{{Path: "/lib/x", Mode: 0o644, Data: []byte("x")}}
	for _, tc := range []struct {
		name    string
		u       *Userland
		prefix  string
		path    string
		notPath string
	}{
		{"userland", &Userland{Release: "bookworm", Archive: userland}, "USERLAND-ARCHIVE", "usr/lib/x", "\x00lib/x"},
		{"padded", &Userland{Release: "trixie", Archive: odd}, "ODD\x00", "usr/lib/x", "\x00lib/x"},
		{"bare", nil, "070701", "lib/x", "usr/lib/x"},
	} {
		out := filepath.Join(dir, "initrd-"+tc.name+".cpio")
		if err := writeInitrd(out, tc.u, entries); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if len(s) < len(tc.prefix) || s[:len(tc.prefix)] != tc.prefix {
			t.Errorf("%s: the initramfs starts %q; want %q", tc.name, s[:min(len(s), 20)], tc.prefix)
		}
		if !containsName(s, tc.path) || containsName(s, tc.notPath) {
			t.Errorf("%s: want an entry %q and none %q", tc.name, tc.path, tc.notPath)
		}
	}
}

// containsName reports whether a newc archive holds the name (names end with a NUL).
func containsName(archive, name string) bool {
	for i := 0; i+len(name) < len(archive); i++ {
		if archive[i:i+len(name)] == name && archive[i+len(name)] == 0 {
			return true
		}
	}
	return false
}
