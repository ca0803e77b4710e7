// Package guest is gpiohil's agent inside the VM: the guest kernel's first process.
//
// The VM boots with an initramfs whose /init is the gpiohil binary itself. As PID 1 it mounts
// what a GPIO test needs (proc, sysfs, devtmpfs, configfs, debugfs, tmpfs), mounts the host's
// root file system read-only over 9p and switches into it, so any host program runs unchanged
// (dynamically linked ones too), and mounts the host's working directory read-write at the
// same path, so reports come back. It then creates the requested gpio-sim chips, runs the
// command with its output streamed to the host over the second serial port (see package wire),
// reports the exit status and powers the VM off.
//
// On machines without virtio (QEMU's raspi3b, package rpi3) the configuration says Local: the
// command and everything it needs are in the initramfs itself, so the agent stays in it,
// mounts debugfs and a tmpfs on /tmp, loads the kernel modules listed (the Raspberry Pi's
// watchdog driver, which is what powers that board off), and after the command sends the files
// it left in the outbox back over the channel. The channel is /dev/ttyS1 there too: the Pi's
// mini UART, whose alias in the device tree is serial1.
package guest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vm/wire"
)

// Channel is the guest's end of the serial line to the host.
const Channel = "/dev/ttyS1"

// ConfigPath is where the host puts the run's configuration (an encoded wire.GuestConfig) in
// the initramfs. Reading it there is 100 ms faster than receiving it over the serial line.
const ConfigPath = "/gpiohil.config"

// debugExitPort is the I/O port of QEMU's isa-debug-exit device: a write there ends QEMU at once.
const debugExitPort = 0xf4

// newRoot is where the host's root file system is mounted before the agent switches into it.
const newRoot = "/newroot"

// IsAgent reports whether this process is the agent: PID 1, started by the kernel as /init.
func IsAgent() bool { return os.Getpid() == 1 && len(os.Args) > 0 && os.Args[0] == "/init" }

// Main runs the agent and powers the VM off. It never returns.
func Main() {
	a := &agent{}
	err := a.run()
	if err != nil {
		a.fatal(err)
	}
	powerOff(a.tty)
}

type agent struct {
	tty *os.File
	mu  sync.Mutex
	w   *wire.Writer
}

func (a *agent) send(k wire.Kind, p []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Write(k, p)
}

func (a *agent) logf(format string, args ...any) {
	if a.w != nil {
		a.send(wire.Log, fmt.Appendf(nil, format, args...))
	}
}

// fatal reports an agent failure on the channel if it is open, and on the console always.
func (a *agent) fatal(err error) {
	fmt.Fprintf(os.Stderr, "gpiohil agent: %v\n", err)
	if a.w != nil {
		a.send(wire.Fatal, []byte(err.Error()))
	}
}

func (a *agent) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("agent panic: %v\n%s", r, debug.Stack())
		}
	}()
	for _, m := range []mount{
		{"devtmpfs", "/dev", "devtmpfs", 0, ""},
		{"proc", "/proc", "proc", 0, ""},
		{"sysfs", "/sys", "sysfs", 0, ""},
	} {
		if err := m.do(""); err != nil {
			return err
		}
	}
	if err := a.openChannel(); err != nil {
		return err
	}
	hello := wire.Hello{Kernel: release(), Uptime: uptime(), Agent: "gpiohil", Protocol: wire.Protocol}
	// The configuration is read after Ready is prepared but its error reported after Ready is
	// sent: an agent from another build says which protocol it speaks before anything else.
	cfg, cerr := readConfig()
	if cfg.Fault == "old-protocol" {
		hello.Protocol = wire.Protocol - 1
	}
	if err := a.w.WriteValue(wire.Ready, hello); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	if cfg.Local {
		// First: whatever fails later, the VM must still be able to power off.
		a.loadModules(cfg.Modules)
	}
	if cfg.Fault == "before-root" {
		return errors.New("fault injected before mounting the host root (test)")
	}
	if cfg.Fault == "panic" {
		panic("fault injected (test)")
	}
	if cfg.Local {
		if err := a.enterLocal(cfg); err != nil {
			return err
		}
	} else if err := enterHostRoot(cfg); err != nil {
		return err
	}
	// Every command the agent runs is told it runs in one of gpiohil's VMs.
	env := append(cfg.Env, runenv.EnvInVM+"=1")
	if len(cfg.Sim) > 0 {
		s, err := sim.Create(cfg.Sim)
		if err != nil {
			return err
		}
		defer s.Close()
		env = append(env, sim.Env(s.Chips()))
	}
	fmt.Fprintf(os.Stderr, "gpiohil agent: running %q\n", cfg.Args)
	st := a.runCommand(cfg, env)
	unix.Sync()
	if cfg.Outbox != "" {
		if err := a.sendOutbox(cfg.Outbox); err != nil {
			return err
		}
	}
	return a.w.WriteValue(wire.Exit, st)
}

// enterLocal prepares the initramfs itself as the command's root, for machines without virtio.
func (a *agent) enterLocal(cfg wire.GuestConfig) error {
	for _, m := range []mount{
		{"debugfs", "/sys/kernel/debug", "debugfs", 0, ""},
		{"tmpfs", "/tmp", "tmpfs", 0, "mode=1777"},
	} {
		if err := m.do(""); err != nil {
			return err
		}
	}
	if cfg.Outbox != "" {
		if err := os.MkdirAll(cfg.Outbox, 0o777); err != nil {
			return fmt.Errorf("create the outbox: %w", err)
		}
	}
	return enterDir(cfg.Dir)
}

// loadModules loads kernel modules from files in the initramfs. A failure is not fatal: the
// command still runs, and the host ends a VM that does not power off.
func (a *agent) loadModules(paths []string) {
	for _, m := range paths {
		if err := loadModule(m); err != nil {
			a.logf("%v", err)
			fmt.Fprintf(os.Stderr, "gpiohil agent: %v\n", err)
		}
	}
}

// loadModule loads a kernel module from a file, as insmod does.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && err != unix.EEXIST {
		return fmt.Errorf("load module %s: %w", path, err)
	}
	return nil
}

// sendOutbox sends every regular file under dir to the host, named by its path relative to dir.
func (a *agent) sendOutbox(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			a.logf("outbox: %v", err)
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			a.logf("outbox: %v", err)
			return nil
		}
		defer f.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.w.WriteFile(filepath.ToSlash(rel), f)
	})
}

func (a *agent) openChannel() error {
	f, err := os.OpenFile(Channel, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open host channel: %w (the VM needs a second serial port)", err)
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return fmt.Errorf("host channel %s: %w", Channel, err)
	}
	// The equivalent of cfmakeraw: bytes pass unchanged in both directions.
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CRTSCTS
	t.Cflag |= unix.CS8 | unix.CLOCAL | unix.CREAD
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t); err != nil {
		return fmt.Errorf("host channel %s: set raw mode: %w", Channel, err)
	}
	a.tty = f
	a.w = wire.NewWriter(f)
	return nil
}

func readConfig() (wire.GuestConfig, error) {
	var cfg wire.GuestConfig
	b, err := os.ReadFile(ConfigPath)
	if err != nil {
		return cfg, fmt.Errorf("read configuration: %w", err)
	}
	if err := cfg.UnmarshalBinary(b); err != nil {
		return cfg, fmt.Errorf("read configuration %s: %w", ConfigPath, err)
	}
	if len(cfg.Args) == 0 {
		return cfg, errors.New("configuration from host has no command")
	}
	return cfg, nil
}

type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

func (m mount) do(root string) error {
	target := root + m.target
	if err := unix.Mount(m.source, target, m.fstype, m.flags, m.data); err != nil && err != unix.EBUSY {
		return fmt.Errorf("mount %s on %s: %w", m.fstype, target, err)
	}
	return nil
}

// enterDir makes dir ("" means /) the working directory the command starts in.
func enterDir(dir string) error {
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("enter working directory: %w", err)
	}
	return nil
}

// 9p cache modes (fs/9p/v9fs.h: CACHE_FILE 1, CACHE_META 2, CACHE_WRITEBACK 4, CACHE_LOOSE 8).
const (
	// cacheReadOnly is for the host root, which the guest cannot write: everything cached.
	cacheReadOnly = "loose"
	// cacheShare is for the read-write shares: file contents and metadata cached without
	// checking back with the host (FILE|META|LOOSE), writes sent to the host at once (no
	// WRITEBACK). A program run from the working directory, such as the suites' test binary
	// or gpiohil drive spawned by them hundreds of times, is read over 9p once instead of at
	// every exec: 45 ms instead of 600 ms per start of the 6 MB gpiohil under emulation
	// (cache=none), or 190 ms (cache=mmap). The cost: a file the host changes while the
	// guest runs may look unchanged to the guest. What the guest writes reaches the host as it
	// writes it, even when the VM is then killed.
	cacheShare = "0xb"
)

// ninep returns 9p mount options: large messages make reading host binaries much faster.
func ninep(cache string) string {
	return "trans=virtio,version=9p2000.L,msize=512000,cache=" + cache
}

// enterHostRoot mounts the host's root at /newroot, the guest's own file systems and the
// shares over it, then makes it the root and enters the working directory.
func enterHostRoot(cfg wire.GuestConfig) error {
	// The host root is read-only here, so caching it in the guest is safe and fast.
	if err := (mount{cfg.Root, newRoot, "9p", unix.MS_RDONLY, ninep(cacheReadOnly)}).do(""); err != nil {
		return fmt.Errorf("%w (is the host root shared with -virtfs mount_tag=%s?)", err, cfg.Root)
	}
	for _, m := range []mount{
		{"proc", "/proc", "proc", 0, ""},
		{"sysfs", "/sys", "sysfs", 0, ""},
		{"devtmpfs", "/dev", "devtmpfs", 0, ""},
		{"configfs", "/sys/kernel/config", "configfs", 0, ""},
		{"debugfs", "/sys/kernel/debug", "debugfs", 0, ""},
		{"tmpfs", "/tmp", "tmpfs", 0, "mode=1777"},
		{"tmpfs", "/run", "tmpfs", 0, "mode=755"},
	} {
		if err := m.do(newRoot); err != nil {
			return err
		}
	}
	for _, p := range []string{"/dev/pts", "/dev/shm"} {
		os.Mkdir(newRoot+p, 0o755)
	}
	(mount{"devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666"}).do(newRoot)
	(mount{"tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777"}).do(newRoot)
	for _, s := range cfg.Share {
		var flags uintptr
		if s.ReadOnly {
			flags = unix.MS_RDONLY
		}
		os.MkdirAll(newRoot+s.Path, 0o755) // a share under /tmp needs its mount point in the guest's tmpfs
		if err := (mount{s.Tag, s.Path, "9p", flags, ninep(cacheShare)}).do(newRoot); err != nil {
			return err
		}
	}
	if err := unix.Chroot(newRoot); err != nil {
		return fmt.Errorf("switch to the host root: %w", err)
	}
	return enterDir(cfg.Dir)
}

// runCommand runs the command with its output streamed to the host and returns how it ended.
func (a *agent) runCommand(cfg wire.GuestConfig, env []string) wire.ExitStatus {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			os.Setenv("PATH", v) // exec.LookPath reads the agent's own PATH
		}
	}
	cmd := exec.Command(cfg.Args[0], cfg.Args[1:]...)
	if cfg.Path != "" {
		cmd = &exec.Cmd{Path: cfg.Path, Args: cfg.Args}
	}
	cmd.Env = env
	cmd.Stdout = wire.StreamWriter{Kind: wire.Stdout, Send: a.send}
	cmd.Stderr = wire.StreamWriter{Kind: wire.Stderr, Send: a.send}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return wire.ExitStatus{Code: 0}
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return wire.ExitStatus{Code: 128 + int(ws.Signal()), Signal: unix.SignalName(ws.Signal())}
		}
		return wire.ExitStatus{Code: ws.ExitStatus()}
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, os.ErrNotExist):
		return wire.ExitStatus{Code: 127, Error: err.Error()}
	default:
		return wire.ExitStatus{Code: 126, Error: err.Error()}
	}
}

// powerOff ends the VM: through isa-debug-exit when QEMU has it, else a power-off (ACPI on a PC,
// the watchdog driver on a Raspberry Pi).
func powerOff(tty *os.File) {
	unix.Sync()
	if tty != nil {
		// Wait until the last frame has left the UART.
		unix.IoctlSetInt(int(tty.Fd()), unix.TCSBRK, 1)
	}
	// isa-debug-exit is a PC device. Elsewhere I/O ports do not exist: on arm64 a write to
	// /dev/port oopses the kernel.
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "386" {
		if f, err := os.OpenFile("/dev/port", os.O_WRONLY, 0); err == nil {
			f.WriteAt([]byte{0}, debugExitPort)
			f.Close()
		}
	}
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	// Without ACPI power-off does nothing on a PC; a restart ends QEMU, which runs with -no-reboot.
	time.Sleep(time.Second)
	unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	// PID 1 must not exit: the kernel would panic.
	for {
		time.Sleep(time.Hour)
	}
}

func release() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func uptime() string {
	b, _ := os.ReadFile("/proc/uptime")
	return strings.TrimSpace(string(b))
}
