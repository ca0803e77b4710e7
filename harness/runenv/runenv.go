// Package runenv owns the environment variables gpiohil passes between its processes: from
// gpiohil run to the suites binary (on the host, in the VM, in the emulated Pi, on a board),
// from the VM's agent to the command it runs, and the few settings a user can give gpiohil
// itself. Every GPIOHIL_* variable is named here, and this is the only package that reads
// one from the environment: others get a Run or a Host and read its fields.
//
// The suites process's whole configuration is one struct, Run: Environ writes it as
// environment entries and ReadRun reads it back, so what the host meant is what the suites
// see. The variables, for people who set them by hand:
//
//	GPIOHIL_BENCH         bench kind: gpio-sim (default), vm-rpi3 or rpi
//	GPIOHIL_RPI3_LANE     the emulated Pi's lane: persist-off or persist-on
//	GPIOHIL_PROFILES      comma-separated built-in profile names or profile files (default: every built-in)
//	GPIOHIL_EXPECTATIONS  comma-separated expectations files, added to the built-in ones
//	GPIOHIL_EXPECTATIONS_ONLY  1: use only those files, not the built-in expectations
//	GPIOHIL_RIG           the rig file of the rpi bench
//	GPIOHIL_BOARD         the board's name in reports (default: the bench kind)
//	GPIOHIL_DUT           the line under test (default: dut on gpio-sim, GPIO17 on a Pi)
//	GPIOHIL_NEIGHBOUR     the line cleanup must not touch (default: neighbour, or GPIO27 on a Pi)
//	GPIOHIL_SHARD         K/N: run only the K-th of N shares of the specs
//	GPIOHIL_JUNIT         where to write the JUnit report
//	GPIOHIL_OUTBOX        where files for the host go (the emulated Pi sends them back)
//	GPIOHIL_BIN           the gpiohil binary ({{.Self}} in profiles, the parent-death parent)
//	GPIOHIL_VM            1 inside gpiohil's VMs (set by the agent)
//	GPIOHIL_SIM           the gpio-sim chips the agent created, as JSON (package sim)
//
// Settings of gpiohil itself, on the host (Host):
//
//	GPIOHIL_KERNEL        the VM's kernel (default: the one make kernel built)
//	GPIOHIL_AGENT         the VM's /init (default: gpiohil-agent next to gpiohil)
//	GPIOHIL_BIN_ARM64     a static arm64 gpiohil for the emulated Pi
//	GPIOHIL_RPI3_KERNEL   the emulated Pi's kernel directory (default: the one make rpi3-kernel fetched)
//	GPIOHIL_SUITES        the suites binary (default: suites.test next to gpiohil)
//	GPIOHIL_SUITES_ARM64  the arm64 suites binary (default: suites-arm64.test next to gpiohil)
//	GPIOHIL_REQUIRE_VM    1: a VM lane that cannot run fails the tests instead of skipping them (make test)
package runenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The variables of a Run.
const (
	EnvBench        = "GPIOHIL_BENCH"
	EnvLane         = "GPIOHIL_RPI3_LANE"
	EnvProfiles     = "GPIOHIL_PROFILES"
	EnvExpectations = "GPIOHIL_EXPECTATIONS"
	EnvOnlyExpect   = "GPIOHIL_EXPECTATIONS_ONLY"
	EnvRig          = "GPIOHIL_RIG"
	EnvBoard        = "GPIOHIL_BOARD"
	EnvDUT          = "GPIOHIL_DUT"
	EnvNeighbour    = "GPIOHIL_NEIGHBOUR"
	EnvShard        = "GPIOHIL_SHARD"
	EnvJUnit        = "GPIOHIL_JUNIT"
	EnvOutbox       = "GPIOHIL_OUTBOX"
	EnvBin          = "GPIOHIL_BIN"
	EnvInVM         = "GPIOHIL_VM"
	EnvSim          = "GPIOHIL_SIM"
	EnvNoTimeline   = "GPIOHIL_NO_TIMELINE"
)

// The variables of a Host.
const (
	EnvKernel      = "GPIOHIL_KERNEL"
	EnvAgent       = "GPIOHIL_AGENT"
	EnvBinArm64    = "GPIOHIL_BIN_ARM64"
	EnvRPi3Kernel  = "GPIOHIL_RPI3_KERNEL"
	EnvRPi4QEMU    = "GPIOHIL_RPI4_QEMU"
	EnvSuites      = "GPIOHIL_SUITES"
	EnvSuitesArm64 = "GPIOHIL_SUITES_ARM64"
	EnvRequireVM   = "GPIOHIL_REQUIRE_VM"
)

// EnvRunnerParent marks the process package runner starts as a tool's intermediate parent.
const EnvRunnerParent = "GPIOHIL_RUNNER_PARENT"

// Shard is which share of the specs a suites process runs: the K-th of N, 1-based.
type Shard struct{ K, N int }

// All is the whole run, unsharded.
var All = Shard{K: 1, N: 1}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// Owns reports whether the i-th spec to start (from 0) belongs to this shard, and which shard
// it belongs to: the specs are dealt round-robin, spec i to shard i mod N + 1.
func (s Shard) Owns(i int) (bool, int) {
	n := max(s.N, 1)
	owner := i%n + 1
	return owner == max(s.K, 1), owner
}

// ParseShard reads "K/N" with 1 <= K <= N.
func ParseShard(v string) (Shard, error) {
	ks, ns, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return Shard{}, fmt.Errorf("%s=%q: want K/N with 1 <= K <= N, e.g. 1/2", EnvShard, v)
	}
	return Shard{K: k, N: n}, nil
}

// Run is everything a suites process is told by whoever started it. The zero value of each
// field is its default.
type Run struct {
	Bench        vocab.BenchKind // "" means gpio-sim
	Lane         string          // the emulated Pi's lane (bookworm-persist-off, ..., or persist-off, persist-on)
	Profiles     []string        // built-in profile names or profile file paths, as this process sees them
	Expectations []string        // expectations files, added to the built-in ones
	OnlyExpect   bool            // use only the Expectations files, not the built-in ones
	Rig          string          // the rig file of the rpi bench
	Board        string          // the board's name in reports
	DUT          string          // the line under test
	Neighbour    string          // the line cleanup must not touch
	Shard        Shard           // zero means All
	JUnit        string          // where to write the JUnit report; "" writes none
	Outbox       string          // where files for the host go
	Bin          string          // the gpiohil binary
	InVM         bool            // inside one of gpiohil's VMs
	Sim          string          // the gpio-sim chips created for this process, as package sim writes them
	// NoTimeline records no timeline for the persistence and cleanup specs (the timeline suite
	// records its own): gpiolib's trace stays off, to compare a run with and without it.
	NoTimeline bool
}

// Environ returns the run as environment entries, one per field that is not at its default.
func (r Run) Environ() []string {
	var env []string
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add(EnvBench, string(r.Bench))
	add(EnvLane, r.Lane)
	add(EnvProfiles, strings.Join(r.Profiles, ","))
	add(EnvExpectations, strings.Join(r.Expectations, ","))
	if r.OnlyExpect {
		add(EnvOnlyExpect, "1")
	}
	add(EnvRig, r.Rig)
	add(EnvBoard, r.Board)
	add(EnvDUT, r.DUT)
	add(EnvNeighbour, r.Neighbour)
	if r.Shard != (Shard{}) && r.Shard != All {
		add(EnvShard, r.Shard.String())
	}
	add(EnvJUnit, r.JUnit)
	add(EnvOutbox, r.Outbox)
	add(EnvBin, r.Bin)
	if r.InVM {
		add(EnvInVM, "1")
	}
	add(EnvSim, r.Sim)
	if r.NoTimeline {
		add(EnvNoTimeline, "1")
	}
	return env
}

// Keys lists the variables of a Run.
var Keys = []string{EnvBench, EnvLane, EnvProfiles, EnvExpectations, EnvOnlyExpect, EnvRig, EnvBoard, EnvDUT, EnvNeighbour,
	EnvShard, EnvJUnit, EnvOutbox, EnvBin, EnvInVM, EnvSim, EnvNoTimeline}

// Without returns env without the entries of a Run's variables, so a new Run can be added to
// it without two values of one variable.
func Without(env []string) []string {
	var out []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		keep := true
		for _, r := range Keys {
			keep = keep && k != r
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// ReadRun reads a run from lookup (os.LookupEnv, or a test's map). Its errors name the
// variable and what it should hold; with an error, the Run still holds every field that did
// read, so a caller that needs one field (the lane, the JUnit path) is not stopped by another.
func ReadRun(lookup func(string) (string, bool)) (Run, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	r := Run{
		Lane: get(EnvLane), Expectations: list(get(EnvExpectations)), OnlyExpect: get(EnvOnlyExpect) == "1", Rig: get(EnvRig), Board: get(EnvBoard),
		DUT: get(EnvDUT), Neighbour: get(EnvNeighbour), JUnit: get(EnvJUnit), Outbox: get(EnvOutbox),
		Bin: get(EnvBin), InVM: get(EnvInVM) == "1", Shard: All, NoTimeline: get(EnvNoTimeline) == "1",
	}
	r.Sim, _ = lookup(EnvSim) // JSON: kept byte for byte
	if v := get(EnvBench); v != "" {
		k, err := vocab.ParseBenchKind(v)
		if err != nil {
			return r, fmt.Errorf("%s: %w", EnvBench, err)
		}
		r.Bench = k
	}
	r.Profiles = list(get(EnvProfiles))
	if v := get(EnvShard); v != "" {
		s, err := ParseShard(v)
		if err != nil {
			return r, err
		}
		r.Shard = s
	}
	return r, nil
}

// list splits a comma-separated list, dropping empty entries.
func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Current reads this process's run from its environment.
func Current() (Run, error) { return ReadRun(os.LookupEnv) }

// Kind is the bench kind, gpio-sim when unset.
func (r Run) Kind() vocab.BenchKind {
	if r.Bench == "" {
		return vocab.KindGPIOSim
	}
	return r.Bench
}

// InVM reports whether this process runs inside one of gpiohil's VMs.
func InVM() bool { return os.Getenv(EnvInVM) == "1" }

// Sim returns the gpio-sim chips created for this process, as package sim wrote them, and
// whether any were.
func Sim() (string, bool) { return os.LookupEnv(EnvSim) }

// Bin is the gpiohil binary named by GPIOHIL_BIN, or "".
func Bin() string { return os.Getenv(EnvBin) }

// IsRunnerParent reports whether this process was started as a tool's intermediate parent.
func IsRunnerParent() bool { return os.Getenv(EnvRunnerParent) == "1" }

// Host is what a user can tell gpiohil itself through the environment. The zero value of each
// field is its default.
type Host struct {
	Kernel      string // the VM's kernel
	Agent       string // the VM's /init
	BinArm64    string // a static arm64 gpiohil for the emulated Pi
	RPi3Kernel  string // the emulated Pi's kernel directory
	RPi4QEMU    string // the QEMU (10 or later) that boots the emulated Pi 4
	Suites      string // the suites binary
	SuitesArm64 string // the arm64 suites binary
	RequireVM   bool   // a VM lane that cannot run is a failure, not a skip
}

// ReadHost reads the host settings from lookup.
func ReadHost(lookup func(string) (string, bool)) Host {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	return Host{Kernel: get(EnvKernel), Agent: get(EnvAgent), BinArm64: get(EnvBinArm64), RPi3Kernel: get(EnvRPi3Kernel),
		RPi4QEMU: get(EnvRPi4QEMU), Suites: get(EnvSuites), SuitesArm64: get(EnvSuitesArm64), RequireVM: get(EnvRequireVM) == "1"}
}

// CurrentHost reads the host settings from this process's environment.
func CurrentHost() Host { return ReadHost(os.LookupEnv) }

// Environ returns the host settings as environment entries, one per field that is set.
func (h Host) Environ() []string {
	var env []string
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add(EnvKernel, h.Kernel)
	add(EnvAgent, h.Agent)
	add(EnvBinArm64, h.BinArm64)
	add(EnvRPi3Kernel, h.RPi3Kernel)
	add(EnvRPi4QEMU, h.RPi4QEMU)
	add(EnvSuites, h.Suites)
	add(EnvSuitesArm64, h.SuitesArm64)
	if h.RequireVM {
		add(EnvRequireVM, "1")
	}
	return env
}
