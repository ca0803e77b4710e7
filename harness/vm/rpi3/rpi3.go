// Package rpi3 runs a command inside an emulated Raspberry Pi 3: QEMU's raspi3b machine booting
// Debian's stock arm64 kernel, whose GPIO driver is the genuine pinctrl-bcm2835.
//
// gpio-sim is not a Raspberry Pi: on release it keeps a line an output, while the Pi's mainline
// driver turns a released output back into an input unless the module parameter
// pinctrl_bcm2835.persist_gpio_outputs is set, as Raspberry Pi OS does by default. This lane
// boots that driver in both settings ([PersistOff], [PersistOn]), so CI can check what happens
// to a Pi user's pins without a Pi.
//
// ci/rpi3/fetch.sh (make rpi3-kernel) downloads the kernel package with apt-get and unpacks
// the kernel, its bcm2837-rpi-3-b device tree, the bcm2835_wdt module and a static busybox
// into gpiohil's cache. Run writes an initramfs holding gpiohil cross-compiled for arm64 as
// /init (the agent of package guest, in its Local mode: raspi3b has no virtio, so no 9p),
// /bin/gpiohil, /bin/sh and friends from busybox, the watchdog module and the caller's files,
// and boots it:
//
//	qemu-system-aarch64 -M raspi3b -m 1G -kernel vmlinuz -dtb bcm2837-rpi-3-b.dtb -initrd ...
//	  -append 'console=ttyAMA0 ... pinctrl_bcm2835.persist_gpio_outputs=n|y'
//	  -serial <console> -serial <channel socket>
//
// The first UART (PL011, ttyAMA0) is the kernel console; the Pi 3 device tree hangs its
// Bluetooth chip off that UART, so the kernel gives it to the serial device bus and there is no
// /dev/ttyAMA0 to open, but the console works. The second UART (the mini UART, ttyS1) is the
// channel of package wire: the command's output, the files it leaves in the outbox ($GPIOHIL_OUTBOX,
// written to Config.OutDir on the host) and its exit status. The agent loads bcm2835_wdt, whose
// power-off handler ends QEMU (-no-reboot); should that fail, the host kills QEMU a bounded
// time after the exit status arrived.
//
// Under software emulation on two cores the guest agent is up about 4 s after QEMU starts
// (docs/performance.md); docs/rpi3.md describes the lane, what it sees and what it found.
package rpi3

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/guest"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/wire"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// BenchKind is the bench kind of this lane, as tool profiles and reports name it.
const BenchKind = vocab.KindVMRPi3

// Defaults and bounds.
const (
	DefaultQEMU    = "qemu-system-aarch64"
	DefaultTimeout = 10 * time.Minute
	// Memory is fixed by the machine: QEMU's raspi3b has exactly 1 GiB.
	Memory = "1G"
)

// Paths inside the guest.
const (
	GuestBin    = "/bin/gpiohil" // the gpiohil binary (the agent itself, linked)
	GuestOutbox = "/out"         // files left here are sent to the host's Config.OutDir
	GuestCarry  = "/carry"       // host files given to Config.Carry go here
	guestModule = "/lib/modules/bcm2835_wdt.ko"
)

// OutboxPath is where the command in the guest writes a file it means for the host: the file
// called name in the outbox, which reaches the host as Config.OutDir/name.
func OutboxPath(name string) string { return GuestOutbox + "/" + name }

// Board is the Raspberry Pi model QEMU emulates. Both run Debian's same arm64 kernel and its
// genuine pinctrl-bcm2835 driver; they differ in the GPIO block (the Pi 4's BCM2711 has pull
// registers that read back, which QEMU 9 and later model) and in which QEMU has the machine.
type Board struct {
	Name    string // "pi3", "pi4"
	Model   string // "Raspberry Pi 3", "Raspberry Pi 4": the lane titles' start
	Machine string // QEMU's machine
	Memory  string // fixed by the machine: raspi3b has exactly 1 GiB, raspi4b is booted with 2 GiB
	DTB     string // the device tree, in the kernel directory (ci/rpi3/fetch.sh, ci/rpi4/fetch.sh)
}

// The boards.
var (
	Pi3 = Board{Name: "pi3", Model: "Raspberry Pi 3", Machine: "raspi3b", Memory: "1G", DTB: "board.dtb"}
	Pi4 = Board{Name: "pi4", Model: "Raspberry Pi 4", Machine: "raspi4b", Memory: "2G", DTB: "board-pi4.dtb"}
)

// QEMU is the QEMU a board boots under when Config.QEMU is "": Debian's qemu-system-aarch64 on
// PATH for the Pi 3; for the Pi 4, whose raspi4b machine came in QEMU 9.0 (bookworm has 7.2),
// the QEMU 10 that ci/rpi4/fetch.sh unpacked from bookworm-backports into gpiohil's cache
// ($GPIOHIL_RPI4_QEMU overrides it).
func (b Board) QEMU() string {
	if b.Name != Pi4.Name {
		return DefaultQEMU
	}
	if q := runenv.CurrentHost().RPi4QEMU; q != "" {
		return q
	}
	return filepath.Join(vm.CacheDir(), "rpi4", "current", "qemu-system-aarch64")
}

// checkMachine makes sure the QEMU at path has the board's machine: a QEMU older than 9.0
// (bookworm's 7.2, say) has no raspi4b. The Pi 3's raspi3b is in every QEMU Debian ships, so
// it is not asked (asking costs a QEMU start).
func (b Board) checkMachine(path string) error {
	if b.Name == Pi3.Name {
		return nil
	}
	out, err := exec.Command(path, "-machine", "help").Output()
	if err != nil {
		return fmt.Errorf("rpi3: %s -machine help: %v; %s", path, err, b.qemuHint())
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == b.Machine {
			return nil
		}
	}
	return fmt.Errorf("rpi3: %s has no %s machine (the %s needs QEMU 9.0 or later); %s", path, b.Machine, b.Model, b.qemuHint())
}

// qemuHint says how to get a board's QEMU.
func (b Board) qemuHint() string {
	if b.Name == Pi4.Name {
		return "fetch QEMU 10 for the emulated Pi 4 with: make rpi4-qemu (ci/rpi4/fetch.sh)"
	}
	return "install it: sudo apt-get install qemu-system-arm (or run make rpi3-kernel as root)"
}

// Lane is one setting of the kernel the emulated Pi boots, and the userland beside gpiohil.
type Lane struct {
	// Name is persist-off, persist-on, or the userland's release and that: bookworm-persist-off;
	// a Pi 4 lane's starts with pi4-.
	Name    string
	Board   Board
	Persist bool // pinctrl_bcm2835.persist_gpio_outputs
	// Userland is the Debian release whose arm64 userland (ci/rpi3/userland.sh: Python,
	// RPi.GPIO, gpiozero, libgpiod and its tools) boots beside gpiohil; "" boots gpiohil and
	// busybox only.
	Userland string
}

// The lanes.
var (
	// PersistOff is the mainline default: a released output becomes an input.
	PersistOff = Lane{Name: "persist-off", Board: Pi3, Persist: false}
	// PersistOn is Raspberry Pi OS's default: a released output stays an output at its level.
	PersistOn = Lane{Name: "persist-on", Board: Pi3, Persist: true}
	// BareLanes boot gpiohil and busybox only: quick, for gpiohil's own tests of the lane.
	BareLanes = []Lane{PersistOff, PersistOn}
	// Pi4BareLanes are the Pi 4's: pi4-persist-off, pi4-persist-on.
	Pi4BareLanes = []Lane{{Name: "pi4-persist-off", Board: Pi4}, {Name: "pi4-persist-on", Board: Pi4, Persist: true}}
	// Userlands are the Debian releases ci/rpi3/userland.sh builds: bookworm (Python 3.11,
	// libgpiod 1.6) and trixie (Python 3.13, libgpiod 2.2).
	Userlands = []string{"bookworm", "trixie"}
	// Lanes are what gpiohil run --bench vm-rpi3 runs: on the Pi 3, then on the Pi 4, each
	// userland with persist off and on.
	Lanes = append(userlandLanes(Pi3), userlandLanes(Pi4)...)
)

func userlandLanes(b Board) []Lane {
	prefix := ""
	if b.Name != Pi3.Name {
		prefix = b.Name + "-"
	}
	var ls []Lane
	for _, u := range Userlands {
		for _, l := range BareLanes {
			ls = append(ls, Lane{Name: prefix + u + "-" + l.Name, Board: b, Persist: l.Persist, Userland: u})
		}
	}
	return ls
}

func (l Lane) String() string { return l.Name }

// board is the lane's board; the zero Lane's is the Pi 3.
func (l Lane) board() Board {
	if l.Board.Machine == "" {
		return Pi3
	}
	return l.Board
}

// Title is the lane's column heading in the semantics matrix.
func (l Lane) Title() string {
	t := l.board().Model + ", emulated, mainline driver, "
	if l.Userland != "" {
		t += "Debian " + l.Userland + ", "
	}
	if l.Persist {
		return t + "persist on"
	}
	return t + "persist off"
}

// Param is the kernel command-line parameter that selects the lane.
func (l Lane) Param() string {
	if l.Persist {
		return "pinctrl_bcm2835.persist_gpio_outputs=y"
	}
	return "pinctrl_bcm2835.persist_gpio_outputs=n"
}

// ParamValue is what /sys/module/pinctrl_bcm2835/parameters/persist_gpio_outputs reads on the lane.
func (l Lane) ParamValue() vocab.Persist {
	if l.Persist {
		return vocab.PersistOn
	}
	return vocab.PersistOff
}

// LaneByName returns the lane called name: one of Lanes, BareLanes or Pi4BareLanes.
func LaneByName(name string) (Lane, error) {
	var names []string
	for _, l := range slices.Concat(Lanes, BareLanes, Pi4BareLanes) {
		if l.Name == name {
			return l, nil
		}
		names = append(names, l.Name)
	}
	return Lane{}, fmt.Errorf("rpi3: lane %q unknown; want one of %s", name, strings.Join(names, ", "))
}

// CurrentLane says which lane this process runs in, from $GPIOHIL_RPI3_LANE; ok is false outside
// the emulated Pi.
func CurrentLane() (l Lane, ok bool) {
	// An error concerns another variable of the run (the bench, the shard): the lane and
	// GPIOHIL_VM are read all the same, and the error is for the suites to report.
	run, _ := runenv.Current()
	l, err := LaneByName(run.Lane)
	return l, err == nil && run.InVM
}

// Kernel is what the lane boots, as ci/rpi3/fetch.sh left it in one directory.
type Kernel struct {
	Dir      string
	Image    string // vmlinuz: an arm64 Image
	DTB      string // board.dtb: bcm2837-rpi-3-b.dtb with a board revision and an rng seed
	Watchdog string // bcm2835_wdt.ko, decompressed
	Busybox  string // a static arm64 busybox
	Release  string // the kernel's uname -r
}

// DefaultKernelDir is $GPIOHIL_RPI3_KERNEL, or the newest kernel ci/rpi3/fetch.sh fetched.
func DefaultKernelDir() string {
	if d := runenv.CurrentHost().RPi3Kernel; d != "" {
		return d
	}
	return filepath.Join(vm.CacheDir(), "rpi3", "current")
}

const fetchHint = "fetch it with: make rpi3-kernel (ci/rpi3/fetch.sh)"

// FindKernel checks a kernel directory; "" means DefaultKernelDir. The error says what to run.
func FindKernel(dir string) (Kernel, error) {
	if dir == "" {
		dir = DefaultKernelDir()
	}
	k := Kernel{Dir: dir, Image: filepath.Join(dir, "vmlinuz"), DTB: filepath.Join(dir, "board.dtb"),
		Watchdog: filepath.Join(dir, "bcm2835_wdt.ko"), Busybox: filepath.Join(dir, "busybox")}
	for _, p := range []string{k.Image, k.DTB, k.Watchdog, k.Busybox} {
		if _, err := os.Stat(p); err != nil {
			return k, fmt.Errorf("rpi3: no emulated Pi kernel: %s missing; %s", p, fetchHint)
		}
	}
	var magic [4]byte
	f, err := os.Open(k.Image)
	if err != nil {
		return k, fmt.Errorf("rpi3: kernel %s: %w; %s", k.Image, err, fetchHint)
	}
	_, err = f.ReadAt(magic[:], 56) // the arm64 Image header's "ARM\x64"
	f.Close()
	if err != nil || string(magic[:]) != "ARM\x64" {
		return k, fmt.Errorf("rpi3: kernel %s is not an arm64 Image; %s", k.Image, fetchHint)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "release")); err == nil {
		k.Release = strings.TrimSpace(string(b))
	}
	return k, nil
}

// DTBOf is the device tree board b boots with, from the kernel's directory: DTB for the Pi 3,
// board-pi4.dtb (written by ci/rpi4/fetch.sh) for the Pi 4. The error says what to run.
func (k Kernel) DTBOf(b Board) (string, error) {
	if b.Name == Pi3.Name || b.Machine == "" {
		return k.DTB, nil
	}
	p := filepath.Join(k.Dir, b.DTB)
	if _, err := os.Stat(p); err != nil {
		return p, fmt.Errorf("rpi3: no %s device tree: %s missing; %s", b.Model, p, b.qemuHint())
	}
	return p, nil
}

// Userland is a Debian userland for the guest, as ci/rpi3/userland.sh left it.
type Userland struct {
	Release  string // bookworm, trixie
	Dir      string
	Archive  string // userland.cpio: an uncompressed newc archive, loaded before gpiohil's own
	Manifest string // manifest.txt: its packages and versions
}

// DefaultUserlandDir is where ci/rpi3/userland.sh leaves the current userland of a release.
func DefaultUserlandDir(release string) string {
	return filepath.Join(vm.CacheDir(), "rpi3", "userland", "current-"+release)
}

// FindUserland checks the current userland of a Debian release. The error says what to run.
func FindUserland(release string) (Userland, error) {
	dir := DefaultUserlandDir(release)
	u := Userland{Release: release, Dir: dir, Archive: filepath.Join(dir, "userland.cpio"), Manifest: filepath.Join(dir, "manifest.txt")}
	for _, p := range []string{u.Archive, u.Manifest} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			return u, fmt.Errorf("rpi3: no Debian %s userland for the emulated Pi: %s missing; build it with: make rpi3-userland (ci/rpi3/userland.sh %s)", release, p, release)
		}
	}
	return u, nil
}

// Missing says why lane l cannot run here (no QEMU, no kernel, no userland), or "" when it
// can. The zero Lane asks about the bare lanes.
func Missing(l Lane) string {
	b := l.board()
	q, err := exec.LookPath(b.QEMU())
	if err != nil {
		return b.QEMU() + " not found; " + b.qemuHint()
	}
	if err := b.checkMachine(q); err != nil {
		return strings.TrimPrefix(err.Error(), "rpi3: ")
	}
	k, err := FindKernel("")
	if err == nil {
		_, err = k.DTBOf(b)
	}
	if err != nil {
		return strings.TrimPrefix(err.Error(), "rpi3: ")
	}
	if l.Userland != "" {
		if _, err := FindUserland(l.Userland); err != nil {
			return strings.TrimPrefix(err.Error(), "rpi3: ")
		}
	}
	return ""
}

// DefaultInit finds a statically linked arm64 gpiohil for the guest: $GPIOHIL_BIN_ARM64, this
// executable when it is one, or gpiohil-arm64 next to this executable.
func DefaultInit() (string, error) {
	if p := runenv.CurrentHost().BinArm64; p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("rpi3: find the gpiohil binary: %w", err)
	}
	if checkInit(self) == nil {
		return self, nil
	}
	sibling := filepath.Join(filepath.Dir(self), "gpiohil-arm64")
	if _, err := os.Stat(sibling); err == nil {
		return sibling, nil
	}
	return "", fmt.Errorf("rpi3: no arm64 gpiohil for the guest: set %s or put gpiohil-arm64 next to %s; build it with: make build-arm64 (CGO_ENABLED=0 GOARCH=arm64 go build -o bin/gpiohil-arm64 ./cmd/gpiohil)", runenv.EnvBinArm64, self)
}

// checkInit makes sure the guest's init is a static arm64 program: the initramfs has no loader.
func checkInit(path string) error {
	if err := vm.CheckInit(path, elf.EM_AARCH64, "arm64"); err != nil {
		return fmt.Errorf("rpi3: %w", err)
	}
	return nil
}

// Config says what to run in the emulated Pi and how to boot it.
type Config struct {
	Lane Lane     // which kernel setting to boot; the zero value is PersistOff
	Args []string // the command and its arguments, as paths inside the guest; required
	// Env is added to the command's environment, which otherwise holds only PATH=/bin, HOME,
	// TMPDIR and the run's GPIOHIL_* variables of GuestEnv (the host's own environment means
	// nothing in the guest).
	Env []string
	// Files are added to the initramfs: a test binary, a profile, data. Everything the command
	// runs must be in the initramfs: raspi3b has no virtio to share host directories. Carry
	// adds a host file without its caller choosing a guest path.
	Files []initramfs.Entry
	Dir   string // the command's working directory in the guest; "" means /
	// OutDir is the host directory that files the command leaves in $GPIOHIL_OUTBOX are written
	// to, under the same relative paths; "" drops them with a note on Stderr.
	OutDir string

	KernelDir string        // "" means DefaultKernelDir()
	QEMU      string        // "" means DefaultQEMU found on PATH
	Init      string        // static arm64 gpiohil; "" means DefaultInit()
	Timeout   time.Duration // bound on the whole run; 0 means DefaultTimeout
	Append    string        // extra kernel command line
	Fault     string        // makes the guest agent fail at a named step; tests only
	// Trace, when set, is the host file QEMU writes its trace of every MMIO write to
	// (memory_region_ops_write): the register witness's input (package regwitness).
	Trace string

	Stdout, Stderr io.Writer // the command's output; nil discards it
	Console        io.Writer // when set, the guest console (kernel and agent messages) is copied here
}

// Carry adds the host file hostPath to the initramfs, with permissions mode, and returns its
// path in the guest: GuestCarry/<base name>, or GuestCarry/<n>/<base name> when another file
// already has that path, so the file keeps its name. Carrying the same file with the same
// mode again returns the path it already has. The file is read when the run starts.
func (c *Config) Carry(hostPath string, mode fs.FileMode) (guestPath string) {
	src := hostPath
	if abs, err := filepath.Abs(hostPath); err == nil {
		src = abs
	}
	taken := map[string]bool{}
	for _, e := range c.Files {
		if e.Source == src && e.Mode == mode && strings.HasPrefix(e.Path, GuestCarry+"/") {
			return e.Path
		}
		taken[e.Path] = true
	}
	base := filepath.Base(src)
	if base == "/" || base == "." {
		base = "file"
	}
	guestPath = GuestCarry + "/" + base
	for n := 2; taken[guestPath]; n++ {
		guestPath = fmt.Sprintf("%s/%d/%s", GuestCarry, n, base)
	}
	c.Files = append(c.Files, initramfs.File(guestPath, src, mode))
	return guestPath
}

// prepared holds the checked inputs of one run.
type prepared struct {
	cfg      Config
	qemu     string
	kernel   Kernel
	userland *Userland // nil on a bare lane
}

func check(cfg Config) (prepared, error) {
	p := prepared{cfg: cfg}
	if len(cfg.Args) == 0 {
		return p, errors.New("rpi3: no command given")
	}
	if cfg.Lane.Name == "" {
		p.cfg.Lane = PersistOff
	} else if _, err := LaneByName(cfg.Lane.Name); err != nil {
		return p, err
	}
	board := p.cfg.Lane.board()
	if p.cfg.QEMU == "" {
		p.cfg.QEMU = board.QEMU()
	}
	var err error
	if p.qemu, err = exec.LookPath(p.cfg.QEMU); err != nil {
		return p, fmt.Errorf("rpi3: %s not found; %s", p.cfg.QEMU, board.qemuHint())
	}
	if err := board.checkMachine(p.qemu); err != nil {
		return p, err
	}
	if p.kernel, err = FindKernel(cfg.KernelDir); err != nil {
		return p, err
	}
	if p.kernel.DTB, err = p.kernel.DTBOf(board); err != nil {
		return p, err
	}
	if u := p.cfg.Lane.Userland; u != "" {
		ul, err := FindUserland(u)
		if err != nil {
			return p, err
		}
		p.userland = &ul
	}
	if p.cfg.Init == "" {
		if p.cfg.Init, err = DefaultInit(); err != nil {
			return p, err
		}
	}
	if err := checkInit(p.cfg.Init); err != nil {
		return p, err
	}
	if p.cfg.Timeout == 0 {
		p.cfg.Timeout = DefaultTimeout
	}
	if p.cfg.OutDir != "" {
		if st, err := os.Stat(p.cfg.OutDir); err != nil || !st.IsDir() {
			return p, fmt.Errorf("rpi3: output directory %s is not a directory", p.cfg.OutDir)
		}
	}
	return p, nil
}

// AppendLine is the kernel command line of a run.
func AppendLine(cfg Config) string {
	lane := cfg.Lane
	if lane.Name == "" {
		lane = PersistOff
	}
	// console=ttyAMA0: the PL011, QEMU's first serial port. panic=-1 ends a panicking guest at
	// once (with -no-reboot, QEMU exits) instead of leaving it to the timeout.
	// iomem=relaxed: RPi.GPIO maps the GPIO registers through /dev/mem (Debian's kernel has no
	// /dev/gpiomem), which Debian's IO_STRICT_DEVMEM refuses for a region a driver claimed.
	line := "console=ttyAMA0 panic=-1 quiet rdinit=/init iomem=relaxed " + lane.Param()
	if cfg.Append != "" {
		line += " " + cfg.Append
	}
	return line
}

// QEMUArgs returns QEMU's command line for a run.
func QEMUArgs(cfg Config, k Kernel, initrd, sock string) []string {
	args := []string{
		// One TCG thread for the board's four cores: with a thread each, the three secondary
		// cores spin in QEMU's boot stub (WFE does not sleep under TCG) and take the host's
		// cores from the boot core; boot to the agent took 9 s instead of 4 on two cores.
		"-machine", cfg.Lane.board().Machine, "-accel", "tcg,thread=single", "-m", cfg.Lane.board().Memory,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", k.Image, "-dtb", k.DTB, "-initrd", initrd, "-append", AppendLine(cfg),
		"-chardev", "stdio,id=console,signal=off",
		"-serial", "chardev:console",
		"-chardev", "socket,id=channel,path=" + sock,
		"-serial", "chardev:channel",
	}
	if cfg.Trace != "" {
		// -msg timestamp=on stamps every trace line with the host's time: a timeline spec places
		// the register writes in time by it (suites/launch witness.go).
		args = append(args, "-trace", "memory_region_ops_write,file="+cfg.Trace, "-msg", "timestamp=on")
	}
	return args
}

// busyboxApplets are linked into /bin: what shell-driven tools and tests run. Debian's static
// busybox runs its own applets from sh without the links too; these make them visible to
// exec and PATH lookups.
var busyboxApplets = []string{"sh", "cat", "echo", "printf", "test", "[", "true", "false", "sleep",
	"kill", "ls", "grep", "sed", "head", "tail", "tr", "wc", "mkdir", "rm", "env", "id", "od", "dd",
	"uname", "dmesg", "ps"}

// Entries returns the initramfs of a run: the agent, gpiohil, busybox, the watchdog module, the
// guest configuration and cfg.Files.
func Entries(cfg Config, k Kernel, gc wire.GuestConfig) ([]initramfs.Entry, error) {
	gcBytes, err := gc.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("rpi3: encode the guest configuration: %w", err)
	}
	link := func(p, target string) initramfs.Entry {
		return initramfs.Entry{Path: p, Mode: os.ModeSymlink | 0o777, Target: target}
	}
	es := append(initramfs.Agent(cfg.Init),
		initramfs.Entry{Path: guest.ConfigPath, Mode: 0o600, Data: gcBytes},
		initramfs.Dir("/bin"), initramfs.Dir("/root"), initramfs.Dir(GuestOutbox),
		link(GuestBin, "/init"),
		initramfs.File("/bin/busybox", k.Busybox, 0o755),
		initramfs.File(guestModule, k.Watchdog, 0o644),
	)
	taken := map[string]bool{}
	for _, e := range cfg.Files {
		taken[e.Path] = true
	}
	for _, a := range busyboxApplets {
		if !taken["/bin/"+a] {
			es = append(es, link("/bin/"+a, "busybox"))
		}
	}
	return append(es, cfg.Files...), nil
}

// GuestEnv is the command's environment in the guest, before cfg.Env: PATH, HOME and TMPDIR,
// and the run as package runenv writes it (the bench, the lane, the outbox, gpiohil). The agent
// adds GPIOHIL_VM=1.
func GuestEnv(lane Lane) []string {
	run := runenv.Run{Bench: vocab.KindVMRPi3, Lane: lane.Name, Outbox: GuestOutbox, Bin: GuestBin}
	return append([]string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "HOME=/root", "TMPDIR=/tmp"}, run.Environ()...)
}

// Run boots the emulated Pi, runs cfg.Args in it and returns how it ended. Errors are those of
// package vm: a *vm.TimeoutError when the run took too long, a *vm.GuestError when the guest
// ended without an exit status (kernel panic, agent failure, QEMU failing to start), and a
// plain error, saying what to run, for bad input or a missing QEMU or kernel.
//
// Like vm.Run, it first sweeps away the temporary folders of gpiohil processes that were
// killed before they could remove theirs (package tmpdir).
func Run(ctx context.Context, cfg Config) (vm.Result, error) {
	tmpdir.Sweep(tmpdir.Prefixes()...)
	p, err := check(cfg)
	if err != nil {
		return vm.Result{}, err
	}
	return run(ctx, p)
}

// accel is the accelerator of every run: the emulated Pi always runs under software
// emulation, with one TCG thread (QEMUArgs).
const accel = "tcg"

func run(ctx context.Context, p prepared) (vm.Result, error) {
	cfg := p.cfg
	res := vm.Result{Accel: accel}
	tmp, err := tmpdir.Make(tmpdir.RPi3)
	if err != nil {
		return res, fmt.Errorf("rpi3: %w", err)
	}
	defer os.RemoveAll(tmp)
	gc := wire.GuestConfig{Args: cfg.Args, Env: append(GuestEnv(cfg.Lane), cfg.Env...), Dir: cfg.Dir,
		Local: true, Modules: []string{guestModule}, Outbox: GuestOutbox, Fault: cfg.Fault}
	entries, err := Entries(cfg, p.kernel, gc)
	if err != nil {
		return res, err
	}
	initrd := filepath.Join(tmp, "initramfs.cpio")
	if err := writeInitrd(initrd, p.userland, entries); err != nil {
		return res, fmt.Errorf("rpi3: %w", err)
	}
	sock := filepath.Join(tmp, "channel.sock")
	out := &outFiles{dir: cfg.OutDir, open: map[string]*os.File{}}
	res, err = vm.Session{
		QEMU: p.qemu, Args: QEMUArgs(cfg, p.kernel, initrd, sock), Socket: sock, Name: "the emulated Pi",
		Timeout: cfg.Timeout, Stdout: cfg.Stdout, Stderr: stderrOf(cfg), Console: cfg.Console,
		OnFile: func(payload []byte) error { return out.write(payload, stderrOf(cfg)) },
		// The mini UART may emit a stray byte when its driver probes, before the agent opens it.
		SkipNoise: true,
	}.Run(ctx)
	if cerr := out.close(); cerr != nil && err == nil {
		err = cerr
	}
	res.Accel, res.Files = accel, out.names
	return res, err
}

// writeInitrd writes the run's initramfs: the userland's archive, when the lane has one, then
// gpiohil's, whose /init, /bin links and configuration then win over the userland's. The
// kernel unpacks concatenated archives in order; each must start 4-byte aligned.
func writeInitrd(path string, u *Userland, entries []initramfs.Entry) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if u != nil {
		src, err := os.Open(u.Archive)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("copy the %s userland: %w", u.Release, err)
		}
		if pad := (4 - n%4) % 4; pad > 0 {
			if _, err := f.Write(make([]byte, pad)); err != nil {
				return err
			}
		}
	}
	if u != nil {
		entries = mergedUsr(entries)
	}
	if err := initramfs.Write(f, entries); err != nil {
		return err
	}
	return f.Close()
}

// mergedUsr moves entries under /bin, /sbin and /lib to /usr, where the userland's symlinks of
// those names point (Debian's merged /usr). The kernel's unpacker replaces an existing entry of
// another type, so a /lib directory in gpiohil's archive would otherwise replace the userland's
// /lib symlink, and with it the dynamic loader every program of the userland needs. The guest
// paths keep working through the symlinks.
func mergedUsr(entries []initramfs.Entry) []initramfs.Entry {
	out := make([]initramfs.Entry, 0, len(entries))
	for _, e := range entries {
		for _, d := range []string{"/bin", "/sbin", "/lib"} {
			if e.Path == d || strings.HasPrefix(e.Path, d+"/") {
				e.Path = "/usr" + e.Path
				break
			}
		}
		out = append(out, e)
	}
	return out
}

// outFiles writes File frames under a host directory.
type outFiles struct {
	dir     string
	open    map[string]*os.File
	names   []string
	dropped bool
}

func (o *outFiles) write(payload []byte, warn io.Writer) error {
	name, off, chunk, err := wire.ParseFile(payload)
	if err != nil {
		return fmt.Errorf("rpi3: %w", err)
	}
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("rpi3: the guest sent a file named %q, which is not a path inside the output directory", name)
	}
	if o.dir == "" {
		if !o.dropped {
			fmt.Fprintf(warn, "gpiohil rpi3: the guest left %s in its outbox, but no output directory was given; dropped\n", name)
			o.dropped = true
		}
		return nil
	}
	f, ok := o.open[name]
	if !ok {
		p := filepath.Join(o.dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("rpi3: %w", err)
		}
		if f, err = os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644); err != nil {
			return fmt.Errorf("rpi3: %w", err)
		}
		o.open[name] = f
		o.names = append(o.names, name)
	}
	if _, err := f.WriteAt(chunk, off); err != nil {
		return fmt.Errorf("rpi3: write %s: %w", f.Name(), err)
	}
	return nil
}

func (o *outFiles) close() error {
	var errs []error
	for _, f := range o.open {
		errs = append(errs, f.Close())
	}
	o.open = nil
	return errors.Join(errs...)
}

func stderrOf(cfg Config) io.Writer {
	if cfg.Stderr != nil {
		return cfg.Stderr
	}
	return os.Stderr
}
