// Package vm runs a command inside a small QEMU virtual machine whose kernel has gpio-sim.
//
// Most machines that run CI cannot load gpio-sim: containers, hosted runners without the extra
// modules, this project's own CI. Run boots the kernel that `make kernel` builds
// (ci/kernel/build.sh) under qemu-system-x86_64 with an initramfs holding only the gpiohil
// binary, which becomes the guest's first process (package guest). The host's root file system
// is shared read-only over 9p, so the command is any host program, and the working directory is
// shared read-write, so reports come back. Output streams to the host while the command runs;
// its exit status is returned.
//
// Software emulation (TCG) is the default. KVM is used only when asked for and only after a
// short probe boot proves it works: on some machines /dev/kvm opens but guests stop with an
// emulation failure and QEMU hangs.
package vm

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm/guest"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/wire"
)

// Defaults.
const (
	DefaultQEMU    = "qemu-system-x86_64"
	DefaultMemory  = 256 // MiB: the guest runs one command from a read-only host root
	DefaultTimeout = 10 * time.Minute
	// exitGrace is how long QEMU may take to end after the guest reported the exit status.
	exitGrace = 10 * time.Second
	// channelDrain is how long the host keeps reading the channel after QEMU ended: the
	// socket is closed by then, so this only drains what the guest had already sent.
	channelDrain = time.Second
	// kvmProbeTimeout bounds the KVM probe boot: a working KVM boots in well under a second.
	kvmProbeTimeout = 10 * time.Second
	// consoleLines is how many of the last console lines a failure report shows.
	consoleLines = 25
	// Mount tags of the two 9p shares.
	rootTag = "hostroot"
	workTag = "work"
)

// Config says what to run and how to boot.
type Config struct {
	Args []string // the command and its arguments; required
	Env  []string // its environment; nil means the host's
	Dir  string   // working directory, shared read-write; "" means the current directory
	// Shares are further host directories the guest sees at the same path, mounted after the
	// guest's own tmpfs on /tmp (so a program under the host's /tmp can still run).
	Shares []Share

	Sim []sim.Bank // gpio-sim chips to create before the command runs

	Kernel  string        // bzImage; "" means DefaultKernel()
	QEMU    string        // "" means DefaultQEMU found on PATH
	Init    string        // the guest's /init, a static gpiohil (or gpiohil-agent) binary; "" means DefaultInit()
	Accel   string        // "tcg" (default) or "kvm"
	Memory  int           // MiB; 0 means DefaultMemory
	Timeout time.Duration // bound on the whole run; 0 means DefaultTimeout
	Append  string        // extra kernel command line
	Fault   string        // makes the guest agent fail at a named step; tests only

	Stdout, Stderr io.Writer // the command's output; nil discards it
	Console        io.Writer // when set, the guest console (kernel and agent messages) is copied here
}

// Share is a host directory shared with the guest at the same path.
type Share struct {
	Path     string
	ReadOnly bool
}

// MaxShares bounds Config.Shares: every share is one more virtio device to probe at boot.
const MaxShares = 4

// Result is how a run in one of gpiohil's VMs ended, on either lane: this package's gpio-sim
// VM ([Run]) and the emulated Raspberry Pi (package rpi3). [Session.Run] fills every field but
// Accel and Files, which the lane adds.
type Result struct {
	Code   int           // the command's exit status, 128+N when killed by signal N
	Signal string        // the signal that killed the command, if any
	Accel  string        // the accelerator that was used: tcg or kvm
	Kernel string        // the guest kernel's release
	Boot   time.Duration // from starting QEMU until the guest agent said it was ready
	Uptime time.Duration // the guest kernel's uptime when its agent said it was ready
	Total  time.Duration // from starting QEMU until it ended
	// Files are the files the guest sent back, relative to the host directory they were
	// written to, in arrival order (the emulated Pi's outbox; the gpio-sim VM shares
	// directories instead and leaves this empty).
	Files []string
	// PoweredOff is true when the guest ended QEMU itself after reporting, false when QEMU had
	// to be killed (or ended before the guest reported).
	PoweredOff bool
}

// TimeoutError reports a VM that did not finish in time and was killed.
type TimeoutError struct {
	Timeout time.Duration
	Console []string // the last console lines
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("vm: no result within %v; killed the VM%s", e.Timeout, tail(e.Console))
}

// GuestError reports a VM that ended without the command's exit status: a kernel panic, a failed
// guest agent, QEMU failing to start, or QEMU killed by a signal from outside gpiohil.
type GuestError struct {
	Reason string
	// Signal names the signal that killed QEMU ("SIGKILL"), when that is how the VM ended;
	// "" when the guest ended by itself or QEMU could not start.
	Signal  string
	Console []string
}

func (e *GuestError) Error() string { return "vm: " + e.Reason + tail(e.Console) }

func tail(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "; last console lines:\n    " + strings.Join(lines, "\n    ")
}

// CacheDir is gpiohil's cache: ${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil.
func CacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "gpiohil")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "gpiohil")
}

// DefaultKernel is $GPIOHIL_KERNEL, or the newest kernel `make kernel` built.
func DefaultKernel() string {
	if k := runenv.CurrentHost().Kernel; k != "" {
		return k
	}
	return filepath.Join(CacheDir(), "kernel", "current", "bzImage")
}

// check validates cfg and resolves defaults. Every error says what to do.
func check(cfg Config) (Config, string, error) {
	if len(cfg.Args) == 0 {
		return cfg, "", errors.New("vm: no command given; usage: gpiohil vm run [flags] -- CMD [ARGS...]")
	}
	if cfg.QEMU == "" {
		cfg.QEMU = DefaultQEMU
	}
	qemu, err := exec.LookPath(cfg.QEMU)
	if err != nil {
		return cfg, "", fmt.Errorf("vm: %s not found; install it: sudo apt-get install qemu-system-x86", cfg.QEMU)
	}
	if cfg.Kernel == "" {
		cfg.Kernel = DefaultKernel()
	}
	if f, err := os.Open(cfg.Kernel); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, "", fmt.Errorf("vm: kernel %s not found; build it with: make kernel", cfg.Kernel)
		}
		return cfg, "", fmt.Errorf("vm: kernel %s cannot be read (%v); build one with: make kernel, or give --kernel", cfg.Kernel, err)
	} else {
		var magic [4]byte
		_, err := f.ReadAt(magic[:], 0x202) // the x86 boot protocol's "HdrS" signature
		f.Close()
		if err != nil || string(magic[:]) != "HdrS" {
			return cfg, "", fmt.Errorf("vm: kernel %s is not an x86 bzImage; build one with: make kernel", cfg.Kernel)
		}
	}
	if cfg.Init == "" {
		if cfg.Init, err = DefaultInit(); err != nil {
			return cfg, "", fmt.Errorf("vm: find the gpiohil binary for the guest: %w", err)
		}
	}
	if err := CheckInit(cfg.Init, elf.EM_X86_64, "amd64"); err != nil {
		return cfg, "", fmt.Errorf("vm: %w", err)
	}
	switch cfg.Accel {
	case "":
		cfg.Accel = "tcg"
	case "tcg", "kvm":
	default:
		return cfg, "", fmt.Errorf("vm: accelerator %q unknown; use tcg or kvm", cfg.Accel)
	}
	if cfg.Memory == 0 {
		cfg.Memory = DefaultMemory
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Dir == "" {
		if cfg.Dir, err = os.Getwd(); err != nil {
			return cfg, "", fmt.Errorf("vm: working directory: %w", err)
		}
	}
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return cfg, "", fmt.Errorf("vm: working directory: %w", err)
	}
	if st, err := os.Stat(cfg.Dir); err != nil || !st.IsDir() {
		return cfg, "", fmt.Errorf("vm: working directory %s is not a directory", cfg.Dir)
	}
	if strings.ContainsAny(cfg.Dir, ",") {
		return cfg, "", fmt.Errorf("vm: working directory %s contains a comma, which QEMU's -virtfs cannot take; run from another directory", cfg.Dir)
	}
	if len(cfg.Shares) > MaxShares {
		return cfg, "", fmt.Errorf("vm: %d shares is over the limit of %d", len(cfg.Shares), MaxShares)
	}
	for i, sh := range cfg.Shares {
		p, err := filepath.Abs(sh.Path)
		if err != nil {
			return cfg, "", fmt.Errorf("vm: share %s: %w", sh.Path, err)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			return cfg, "", fmt.Errorf("vm: share %s is not a directory", sh.Path)
		}
		if strings.ContainsAny(p, ",") {
			return cfg, "", fmt.Errorf("vm: share %s contains a comma, which QEMU's -virtfs cannot take", p)
		}
		cfg.Shares[i].Path = p
	}
	if err := sim.Validate(cfg.Sim); err != nil {
		return cfg, "", fmt.Errorf("vm: %w", err)
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	return cfg, qemu, nil
}

// AgentName is the file name of gpiohil's agent-only build (cmd/gpiohil-agent), which make
// build puts next to gpiohil.
const AgentName = "gpiohil-agent"

// DefaultInit returns the guest's /init for a run: $GPIOHIL_AGENT when set, else
// gpiohil-agent next to this executable when it is there, else this executable (gpiohil
// itself becomes the agent when it runs as the guest's /init).
//
// The agent-only build is 2.5 MB where all of gpiohil is 6 MB, and the guest kernel copies
// every byte of its initramfs under emulation (about 30 ms per MB): it saves a tenth of a
// second on every boot. A stale agent from another build is refused at its first frame
// (wire.Protocol).
func DefaultInit() (string, error) {
	if p := runenv.CurrentHost().Agent; p != "" {
		return filepath.Abs(p)
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return InitFor(self), nil
}

// InitFor returns the guest's /init that goes with the gpiohil binary at path: gpiohil-agent
// next to it when it is there, else that binary itself.
func InitFor(path string) string {
	if p := filepath.Join(filepath.Dir(path), AgentName); fileExists(p) {
		return p
	}
	return path
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// CheckInit makes sure a guest's init is a static program for the guest's machine (e.g.
// elf.EM_X86_64, elf.EM_AARCH64): the initramfs holds no dynamic loader. goarch names the
// GOARCH to build with in the error.
func CheckInit(path string, machine elf.Machine, goarch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("guest init %s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != machine {
		return fmt.Errorf("guest init %s is built for %v, want %s (%v); build gpiohil with CGO_ENABLED=0 GOARCH=%s", path, f.Machine, goarch, machine, goarch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("guest init %s is dynamically linked; build gpiohil with CGO_ENABLED=0 (make build does)", path)
		}
	}
	return nil
}

// guestOnly are the guest's own file systems over the host root: what the host has there, the
// guest does not see.
var guestOnly = []string{"/tmp", "/run", "/dev", "/proc", "/sys"}

// guestPath looks the command up on the host, where the guest would find the same program:
// the guest sees the host root at the same paths, so its PATH search would give the same
// answer, at the cost of a 9p lookup for every directory tried (each a few milliseconds under
// emulation). It returns "" whenever the two views could differ (a relative PATH entry, one
// under a file system the guest mounts itself) and the guest then searches itself.
func guestPath(cfg Config) string {
	name := cfg.Args[0]
	if strings.Contains(name, "/") {
		return ""
	}
	path, found := os.Getenv("PATH"), cfg.Env == nil
	for _, e := range cfg.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path, found = v, true
		}
	}
	if !found {
		return ""
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			return ""
		}
		for _, g := range guestOnly {
			if within(dir, g) && !shared(cfg, dir) {
				return ""
			}
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func shared(cfg Config, dir string) bool {
	if within(dir, cfg.Dir) {
		return true
	}
	for _, s := range cfg.Shares {
		if within(dir, s.Path) {
			return true
		}
	}
	return false
}

func within(dir, parent string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// QEMUArgs returns QEMU's command line for a run.
func QEMUArgs(cfg Config, initrd, sock string) []string {
	accel := "tcg"
	if cfg.Accel == "kvm" {
		accel = "kvm"
	}
	// acpi=off: ACPI's PCI interrupt routing costs about 0.3 s of boot under TCG, and the guest
	// powers off through isa-debug-exit, not ACPI. 8250.nr_uarts=2: probe only the two ports used.
	appendLine := "console=ttyS0 panic=-1 quiet rdinit=/init acpi=off 8250.nr_uarts=2"
	if cfg.Append != "" {
		appendLine += " " + cfg.Append
	}
	args := []string{
		"-machine", "pc,accel=" + accel,
		"-m", fmt.Sprint(cfg.Memory),
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", cfg.Kernel, "-initrd", initrd, "-append", appendLine,
		"-chardev", "stdio,id=console,signal=off",
		"-serial", "chardev:console",
		"-chardev", "socket,id=channel,path=" + sock,
		"-serial", "chardev:channel",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-virtfs", "local,path=/,mount_tag=" + rootTag + ",security_model=none,readonly=on,multidevs=remap",
		"-virtfs", "local,path=" + cfg.Dir + ",mount_tag=" + workTag + ",security_model=none,multidevs=remap",
	}
	for i, sh := range cfg.Shares {
		ro := ""
		if sh.ReadOnly {
			ro = ",readonly=on"
		}
		args = append(args, "-virtfs", fmt.Sprintf("local,path=%s,mount_tag=%s,security_model=none,multidevs=remap%s", sh.Path, shareTag(i), ro))
	}
	return args
}

func shareTag(i int) string { return fmt.Sprintf("share%d", i) }

var (
	kvmOnce sync.Once
	kvmErr  error
)

// Run boots a VM, runs cfg.Args in it and returns how it ended. The error is a *TimeoutError
// when the run took too long, a *GuestError when the guest ended without an exit status, and
// a plain error for bad input.
//
// The run's files live in a temporary folder (package tmpdir) that is removed when it ends.
// Run first sweeps away the folders of gpiohil processes that were killed before they could
// remove theirs.
func Run(ctx context.Context, cfg Config) (Result, error) {
	tmpdir.Sweep(tmpdir.Prefixes()...)
	cfg, qemu, err := check(cfg)
	if err != nil {
		return Result{}, err
	}
	if cfg.Accel == "kvm" {
		kvmOnce.Do(func() { kvmErr = probeKVM(ctx, cfg) })
		if kvmErr != nil {
			fmt.Fprintf(stderrOf(cfg), "gpiohil vm: KVM does not work here (%v); using software emulation\n", kvmErr)
			cfg.Accel = "tcg"
		}
	}
	return run(ctx, cfg, qemu)
}

func stderrOf(cfg Config) io.Writer {
	if cfg.Stderr != nil {
		return cfg.Stderr
	}
	return os.Stderr
}

// probeKVM boots a VM under KVM with a short bound: /dev/kvm opening is not proof enough.
func probeKVM(ctx context.Context, cfg Config) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()
	probe := cfg
	probe.Args = []string{"true"}
	probe.Sim = nil
	probe.Stdout, probe.Stderr, probe.Console = nil, nil, nil
	probe.Timeout = kvmProbeTimeout
	_, qemu, _ := check(probe)
	r, err := run(ctx, probe, qemu)
	if err != nil {
		return fmt.Errorf("probe boot failed: %w", err)
	}
	if r.Code != 0 {
		return fmt.Errorf("probe boot: true exited %d", r.Code)
	}
	return nil
}

func run(ctx context.Context, cfg Config, qemu string) (Result, error) {
	res := Result{Accel: cfg.Accel}
	tmp, err := tmpdir.Make(tmpdir.VM)
	if err != nil {
		return res, fmt.Errorf("vm: %w", err)
	}
	defer os.RemoveAll(tmp)
	gc := wire.GuestConfig{Args: cfg.Args, Path: guestPath(cfg), Env: cfg.Env, Dir: cfg.Dir, Root: rootTag,
		Share: []wire.Share{{Tag: workTag, Path: cfg.Dir}}, Sim: cfg.Sim, Fault: cfg.Fault}
	for i, sh := range cfg.Shares {
		gc.Share = append(gc.Share, wire.Share{Tag: shareTag(i), Path: sh.Path, ReadOnly: sh.ReadOnly})
	}
	gcBytes, err := gc.MarshalBinary()
	if err != nil {
		return res, fmt.Errorf("vm: encode the guest configuration: %w", err)
	}
	initrd := filepath.Join(tmp, "initramfs.cpio")
	entries := append(initramfs.Agent(cfg.Init), initramfs.Entry{Path: guest.ConfigPath, Mode: 0o600, Data: gcBytes})
	if err := initramfs.WriteFile(initrd, entries); err != nil {
		return res, fmt.Errorf("vm: %w", err)
	}
	sock := filepath.Join(tmp, "channel.sock")
	res, err = Session{
		QEMU: qemu, Args: QEMUArgs(cfg, initrd, sock), Socket: sock, Name: "the VM", Timeout: cfg.Timeout,
		Stdout: cfg.Stdout, Stderr: stderrOf(cfg), Console: cfg.Console,
	}.Run(ctx)
	res.Accel = cfg.Accel
	return res, err
}
