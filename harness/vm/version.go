package vm

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Offsets in an x86 bzImage's boot header (the kernel's Documentation/arch/x86/boot.rst).
const (
	bootHeader    = 0x200 // where the setup header's offsets count from
	bootSignature = 0x202 // "HdrS"
	bootVersion   = 0x20e // 2 bytes: where the kernel_version string is, from bootHeader
	// maxVersion bounds the kernel_version string ("6.12.117 (root@vm) #1 Tue Dec ...").
	maxVersion = 256
)

// KernelRelease returns the release of an x86 bzImage, the first word of the version string
// its boot header points at (e.g. "6.12.117"): what uname -r says in the guest, read without
// booting.
func KernelRelease(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var hdr [bootVersion + 2]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[bootSignature:bootSignature+4]) != "HdrS" {
		return "", fmt.Errorf("kernel %s is not an x86 bzImage; build one with: make kernel", path)
	}
	off := int64(bootHeader) + int64(binary.LittleEndian.Uint16(hdr[bootVersion:]))
	buf := make([]byte, maxVersion)
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("kernel %s: read its version string: %w", path, err)
	}
	s, _, _ := bytes.Cut(buf[:n], []byte{0})
	fs := strings.Fields(string(s))
	if len(fs) == 0 {
		return "", fmt.Errorf("kernel %s has an empty version string", path)
	}
	return fs[0], nil
}

// qemuVersionTimeout bounds qemu --version, which answers in a few milliseconds.
const qemuVersionTimeout = 5 * time.Second

// QEMUVersion returns the first line of `qemu --version` (e.g. "QEMU emulator version 7.2.22
// (Debian 1:7.2+dfsg-7+deb12u18+b3)"); qemu is a path or a name on PATH.
func QEMUVersion(ctx context.Context, qemu string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, qemuVersionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, qemu, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", qemu, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}
