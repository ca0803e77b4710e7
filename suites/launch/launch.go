// Package launch is `gpiohil run`: it picks the bench, starts the precompiled suites binary
// there, streams its progress and reads the JUnit report back for a summary.
//
// The suites run as a precompiled Ginkgo test binary (`go test -c ./suites`, built by `make
// build` as bin/suites.test) rather than inside gpiohil itself: Ginkgo's RunSpecs belongs to
// the testing framework, the same binary then runs unchanged under `go test`, in the VM and on
// a board, and it can be cross-compiled for the emulated or real Raspberry Pi.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Benches `gpiohil run` knows.
const (
	BenchAuto = "auto" // gpio-sim on the host when it can, else the VM
	BenchVM   = "vm"   // gpio-sim in gpiohil's own VM
	BenchSim  = bench.KindGPIOSim
	BenchPi3  = bench.KindVMRPi3 // the emulated Raspberry Pi 3, both persist_gpio_outputs lanes
	BenchRPi  = bench.KindRPi    // this board, through its loopback rig (Config.Rig)
)

// interruptGrace is how long the suites get after SIGINT to restore the lines and write their
// partial report before they are killed.
const interruptGrace = 30 * time.Second

// EnvSuites names a prebuilt suites binary; EnvSuitesArm64 one for the emulated Pi.
const (
	EnvSuites      = "GPIOHIL_SUITES"
	EnvSuitesArm64 = "GPIOHIL_SUITES_ARM64"
)

// Config says what to run where.
type Config struct {
	Bench        string   // BenchAuto, BenchVM, BenchSim
	Profiles     []string // built-in profile names or profile files; empty means every built-in
	LabelFilter  string   // Ginkgo label filter, e.g. "persistence && tool:libgpiod-v1"
	JUnit        string   // where to write the JUnit report
	Expectations string   // an expectations file instead of the built-in one
	Suites       string   // the suites binary; "" means find or build it (see FindSuites)
	Lanes        []string // vm-rpi3: lane names (persist-off, persist-on); empty means both
	Rig          string   // rpi: the rig file
	Board        string   // the board's name in the report
	Self         string   // the gpiohil binary (the VM's init, {{.Self}} in profiles); "" means this executable
	VM           vm.Config
	VMs          int // vm bench: how many VMs share the specs (suites.Shard); 0 means DefaultVMs()
	Stdout       io.Writer
	Stderr       io.Writer
}

// Summary is what a run found.
type Summary struct {
	Bench                                  string
	Specs, Passed, Failed, Errors, Skipped int
	Unknown                                int // skipped because no expectation is known
	Duration                               time.Duration
	JUnit                                  []string // one report per lane
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errors == 0 && s.Specs > 0 }

// PickBench resolves BenchAuto: gpio-sim on the running kernel when this process can create
// chips there, else the VM.
func PickBench(want string) string {
	if want != "" && want != BenchAuto {
		return want
	}
	if vmtest.HostHasGPIOSim() {
		return BenchSim
	}
	return BenchVM
}

// FindSuites returns the suites binary: $GPIOHIL_SUITES, suites.test next to the gpiohil
// binary, or one built with `go test -c` when this is a gpiohil source tree.
func FindSuites(self string) (string, error) { return findSuites(self, EnvSuites, "suites.test", "") }

// FindSuitesArm64 is FindSuites for the emulated Pi: $GPIOHIL_SUITES_ARM64, suites-arm64.test
// next to gpiohil, or cross-compiled.
func FindSuitesArm64(self string) (string, error) {
	return findSuites(self, EnvSuitesArm64, "suites-arm64.test", "arm64")
}

func findSuites(self, env, name, goarch string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return filepath.Abs(p)
	}
	if p := filepath.Join(filepath.Dir(self), name); exists(p) {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("no suites binary: not next to %s as %s, %s unset, and %v; run make build", self, name, env, err)
	}
	out := filepath.Join(vm.CacheDir(), name)
	cmd := exec.Command("go", "test", "-c", "-ldflags=-s -w", "-o", out, "./suites")
	cmd.Dir = root
	if goarch != "" {
		cmd.Env = append(os.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the suites binary (go test -c ./suites in %s): %v\n%s", root, err, b)
	}
	return out, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// moduleRoot finds the gpiohil source tree around the working directory.
func moduleRoot() (string, error) {
	dir, _ := os.Getwd()
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/gpiohil/gpiohil\n") {
			if _, err := exec.LookPath("go"); err != nil {
				return "", errors.New("the Go toolchain is not on PATH to build it")
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not in a gpiohil source tree")
		}
		dir = parent
	}
}

// Run runs the suites and summarises the JUnit report.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.Bench = PickBench(cfg.Bench)
	sum := Summary{Bench: cfg.Bench}
	if cfg.JUnit == "" {
		cfg.JUnit = filepath.Join("build", "junit", "suites-"+cfg.Bench+".xml")
	}
	junitPath, err := filepath.Abs(cfg.JUnit)
	if err != nil {
		return sum, err
	}
	if err := os.MkdirAll(filepath.Dir(junitPath), 0o755); err != nil {
		return sum, err
	}
	self := cfg.Self
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return sum, err
		}
	}
	if cfg.Suites == "" && cfg.Bench != BenchPi3 {
		if cfg.Suites, err = FindSuites(self); err != nil {
			return sum, err
		}
	}
	env := append(os.Environ(),
		suites.EnvJUnit+"="+junitPath,
		"GPIOHIL_BIN="+self,
	)
	if len(cfg.Profiles) > 0 {
		var ps []string
		for _, p := range cfg.Profiles {
			if strings.ContainsAny(p, "/.") {
				if p, err = filepath.Abs(p); err != nil {
					return sum, err
				}
			}
			ps = append(ps, p)
		}
		// Check the profiles here, so a malformed file is reported before anything boots.
		os.Setenv(suites.EnvProfiles, strings.Join(ps, ","))
		_, perr := suites.Profiles()
		os.Unsetenv(suites.EnvProfiles)
		if perr != nil {
			return sum, perr
		}
		env = append(env, suites.EnvProfiles+"="+strings.Join(ps, ","))
	}
	if cfg.Expectations != "" {
		abs, err := filepath.Abs(cfg.Expectations)
		if err != nil {
			return sum, err
		}
		if _, err := expect.Load(abs); err != nil {
			return sum, err
		}
		env = append(env, suites.EnvExpectations+"="+abs)
	}
	if cfg.Board != "" {
		env = append(env, suites.EnvBoard+"="+cfg.Board)
	}
	args := []string{"-test.v", "-ginkgo.no-color", "-ginkgo.v"}
	if cfg.LabelFilter != "" {
		args = append(args, "-ginkgo.label-filter="+cfg.LabelFilter)
	}
	start := time.Now()
	var code int
	switch cfg.Bench {
	case BenchVM:
		sum.JUnit = []string{junitPath}
		os.Remove(junitPath) // a stale report must not pass for this run's
		code, err = runVM(ctx, cfg, append([]string{cfg.Suites}, args...), env, junitPath, self)
	case BenchSim, BenchRPi:
		sum.JUnit = []string{junitPath}
		os.Remove(junitPath)
		if cfg.Bench == BenchRPi {
			if cfg.Rig == "" {
				return sum, fmt.Errorf("bench rpi needs a rig file (--rig FILE); gpiohil wiring --yaml prints the built-in plan as one")
			}
			abs, err := filepath.Abs(cfg.Rig)
			if err != nil {
				return sum, err
			}
			if _, err := rig.Load(abs); err != nil {
				return sum, err
			}
			env = append(env, suites.EnvRig+"="+abs)
		}
		cmd := exec.CommandContext(ctx, cfg.Suites, args...)
		// On Ctrl-C the suites get SIGINT, so Ginkgo runs every DeferCleanup and the bench
		// restores the lines it touched; only a suite that ignores it is killed.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = interruptGrace
		cmd.Env = append(env, suites.EnvBench+"="+cfg.Bench)
		cmd.Stdout, cmd.Stderr = cfg.Stdout, cfg.Stderr
		err = cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code, err = ee.ExitCode(), nil
		}
	case BenchPi3:
		sum.JUnit, code, err = runPi3(ctx, cfg, args, junitPath, self)
	default:
		return sum, fmt.Errorf("bench %q unknown; want auto, vm, gpio-sim, vm-rpi3 or rpi", cfg.Bench)
	}
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, err
	}
	for _, path := range sum.JUnit {
		s, rerr := junit.ReadFile(path)
		if rerr != nil {
			return sum, fmt.Errorf("the suites ended with status %d and wrote no JUnit report (%v)", code, rerr)
		}
		tally(&sum, s)
	}
	return sum, nil
}

func tally(sum *Summary, s junit.Suites) {
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			sum.Specs++
			switch {
			case c.Failure != nil:
				sum.Failed++
			case c.Error != nil:
				sum.Errors++
			case c.Skipped != nil:
				sum.Skipped++
				for _, r := range c.Results() {
					if r.Verdict == "unknown" {
						sum.Unknown++
					}
				}
			default:
				sum.Passed++
			}
		}
	}
}

// runPi3 runs the arm64 suites in the emulated Raspberry Pi 3, once per lane, each lane's
// JUnit next to junitPath with the lane's name added (suites-persist-off.xml).
func runPi3(ctx context.Context, cfg Config, args []string, junitPath, self string) ([]string, int, error) {
	if why := rpi3.Missing(); why != "" {
		return nil, 0, fmt.Errorf("the emulated Pi cannot run here: %s", why)
	}
	bin := cfg.Suites
	if bin == "" {
		var err error
		if bin, err = FindSuitesArm64(self); err != nil {
			return nil, 0, err
		}
	}
	lanes := rpi3.Lanes
	if len(cfg.Lanes) > 0 {
		lanes = nil
		for _, n := range cfg.Lanes {
			l, err := rpi3.LaneByName(n)
			if err != nil {
				return nil, 0, err
			}
			lanes = append(lanes, l)
		}
	}
	const guestSuites, guestJUnit = "/bin/suites.test", rpi3.GuestOutbox + "/suites.xml"
	files := []initramfs.Entry{initramfs.File(guestSuites, bin, 0o755)}
	env := []string{suites.EnvJUnit + "=" + guestJUnit}
	var profiles []string
	for _, p := range cfg.Profiles {
		if strings.ContainsAny(p, "/.") { // a profile file: carry it into the initramfs
			g := "/profiles/" + filepath.Base(p)
			files = append(files, initramfs.File(g, p, 0o644))
			p = g
		}
		profiles = append(profiles, p)
	}
	if len(profiles) > 0 {
		env = append(env, suites.EnvProfiles+"="+strings.Join(profiles, ","))
	}
	if cfg.Expectations != "" {
		files = append(files, initramfs.File("/expectations.yaml", cfg.Expectations, 0o644))
		env = append(env, suites.EnvExpectations+"=/expectations.yaml")
	}
	var paths []string
	code := 0
	for _, lane := range lanes {
		out, err := os.MkdirTemp("", "gpiohil-pi3-")
		if err != nil {
			return nil, 0, err
		}
		defer os.RemoveAll(out)
		fmt.Fprintf(cfg.Stdout, "gpiohil run: %s\n", lane.Title())
		res, err := rpi3.Run(ctx, rpi3.Config{Lane: lane, Args: append([]string{guestSuites}, args...),
			Env: append(env, suites.EnvBoard+"="+lane.Title()), Files: files, OutDir: out,
			Stdout: cfg.Stdout, Stderr: cfg.Stderr, Timeout: cfg.VM.Timeout})
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", lane.Title(), err)
		}
		if res.Code != 0 {
			code = res.Code
		}
		dst := strings.TrimSuffix(junitPath, ".xml") + "-" + lane.Name + ".xml"
		os.Remove(dst)
		b, err := os.ReadFile(filepath.Join(out, "suites.xml"))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: the suites ended with status %d and sent no JUnit report (%v)", lane.Title(), res.Code, err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return nil, 0, err
		}
		paths = append(paths, dst)
	}
	return paths, code, nil
}

// DefaultVMs is how many VMs the vm bench runs the suites in at once: one per host CPU, at most
// MaxVMs. Each VM emulates one CPU with one host thread, so two VMs on two cores take about
// half the time of one (docs/performance.md).
func DefaultVMs() int { return max(1, min(runtime.NumCPU(), MaxVMs)) }

// MaxVMs bounds the VMs of one run: each one boots, checks the tools and holds 256 MiB.
const MaxVMs = 4

// runVM runs the suites in the VM lane, building the kernel first when it is missing; with
// more than one VM, each runs its shard of the specs (suites.Shard), all with the same Ginkgo
// seed, their output lines prefixed with the VM's number, and their JUnit reports are merged
// into junitPath.
func runVM(ctx context.Context, cfg Config, args, env []string, junitPath, self string) (int, error) {
	if cfg.VM.Kernel == "" {
		cfg.VM.Kernel = vm.DefaultKernel()
	}
	if !exists(cfg.VM.Kernel) {
		if err := buildKernel(cfg.Stderr); err != nil {
			return 0, err
		}
	}
	n := cfg.VMs
	if n <= 0 {
		n = DefaultVMs()
	}
	if n > MaxVMs {
		return 0, fmt.Errorf("--vms %d: at most %d", n, MaxVMs)
	}
	if n == 1 {
		return runOneVM(ctx, cfg, args, env, junitPath, self)
	}
	args = append(slices.Clip(args), fmt.Sprintf("-ginkgo.seed=%d", 1+time.Now().UnixNano()%1_000_000))
	stdout, stderr := &lockedWriter{w: cfg.Stdout}, &lockedWriter{w: cfg.Stderr}
	parts := make([]string, n)
	defer func() { // merged into junitPath, or incomplete: never left beside it
		for _, p := range parts {
			os.Remove(p)
		}
	}()
	codes := make([]int, n)
	errs := make([]error, n)
	// A VM that cannot run (not a failing spec: an error booting or reporting) stops the
	// others: the merged report would lack its share anyway.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		parts[i] = strings.TrimSuffix(junitPath, ".xml") + fmt.Sprintf(".vm%d.xml", i+1)
		os.Remove(parts[i])
		c := cfg
		prefix := fmt.Sprintf("[vm %d/%d] ", i+1, n)
		out, errOut := &prefixWriter{w: stdout, prefix: prefix}, &prefixWriter{w: stderr, prefix: prefix}
		c.Stdout, c.Stderr = out, errOut
		e := append(slices.Clip(env), suites.EnvJUnit+"="+parts[i], fmt.Sprintf("%s=%d/%d", suites.EnvShard, i+1, n))
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = runOneVM(ctx, c, args, e, parts[i], self)
			if errs[i] != nil {
				cancel()
			}
			out.Flush()
			errOut.Flush()
		}()
	}
	wg.Wait()
	code := 0
	var reports []junit.Suites
	for i := range n { // the first VM that failed on its own, not one stopped because of it
		if errs[i] != nil && !errors.Is(errs[i], context.Canceled) {
			return 0, fmt.Errorf("VM %d of %d: %w", i+1, n, errs[i])
		}
	}
	for i := range n {
		if errs[i] != nil {
			return 0, fmt.Errorf("VM %d of %d: %w", i+1, n, errs[i])
		}
		if codes[i] != 0 && code == 0 {
			code = codes[i]
		}
		r, err := junit.ReadFile(parts[i])
		if err != nil {
			return code, fmt.Errorf("VM %d of %d ended with status %d and wrote no JUnit report (%v)", i+1, n, codes[i], err)
		}
		reports = append(reports, r)
	}
	if err := junit.WriteFile(junitPath, junit.Merge(reports...)); err != nil {
		return code, err
	}
	return code, nil
}

// lockedWriter serialises writes from several VMs.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

// prefixWriter writes whole lines, each with a prefix; Flush writes a last partial line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	var out []byte
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		out = append(append(out, p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
	}
	if len(out) > 0 {
		if _, err := p.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// Flush writes what is left of a line without its end.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		p.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}

// runOneVM runs the suites in one VM.
func runOneVM(ctx context.Context, cfg Config, args, env []string, junitPath, self string) (int, error) {
	v := cfg.VM
	v.Args, v.Env, v.Sim = args, env, suites.Banks
	if v.Init == "" && os.Getenv(vm.EnvAgent) == "" {
		v.Init = vm.InitFor(self)
	}
	v.Stdout, v.Stderr = cfg.Stdout, cfg.Stderr
	wd, _ := os.Getwd()
	seen := map[string]bool{wd: true}
	for _, d := range []string{filepath.Dir(junitPath), filepath.Dir(cfg.Suites), filepath.Dir(self)} {
		if !seen[d] && !within(d, wd) {
			seen[d] = true
			v.Shares = append(v.Shares, vm.Share{Path: d})
		}
	}
	if v.Timeout == 0 {
		v.Timeout = 30 * time.Minute
	}
	res, err := vm.Run(ctx, v)
	return res.Code, err
}

func within(dir, parent string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// buildKernel runs `make kernel`'s script when gpiohil runs from its source tree.
func buildKernel(stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return fmt.Errorf("no VM kernel at %s and cannot build one here (%v); run make kernel in a gpiohil source tree", vm.DefaultKernel(), err)
	}
	fmt.Fprintf(stderr, "gpiohil run: no VM kernel yet; building it (about 5 minutes, once)\n")
	cmd := exec.Command(filepath.Join(root, "ci", "kernel", "build.sh"))
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the VM kernel: %w", err)
	}
	return nil
}

// WriteSummary prints a run's summary.
func WriteSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "\ngpiohil run: %d specs on %s in %.1fs: %d passed, %d failed, %d errors, %d skipped (%d without a known expectation)\n",
		s.Specs, s.Bench, s.Duration.Seconds(), s.Passed, s.Failed, s.Errors, s.Skipped, s.Unknown)
	fmt.Fprintf(w, "JUnit: %s\n", strings.Join(s.JUnit, " "))
}
