// Package suites holds gpiohil's Ginkgo suites: for every tool profile and every way a program
// can end, what state the GPIO lines are in afterwards on this platform, checked against the
// expectations in package expect.
//
// The specs live in this package's test files and run as a test binary: inside the gpio-sim
// VM (`go test ./suites` boots it through harness/vmtest), on a host with gpio-sim, or wherever
// `gpiohil run` starts the precompiled binary. What they run on is set by the environment:
//
//	GPIOHIL_BENCH         gpio-sim (default; the chips of $GPIOHIL_SIM, or Banks created on the running kernel),
//	                      vm-rpi3 (inside the emulated Raspberry Pi 3, harness/vm/rpi3), or rpi (a board
//	                      with loopback jumpers, package loopback; needs GPIOHIL_RIG)
//	GPIOHIL_RIG           the rig file of the rpi bench
//	GPIOHIL_DUT           the line under test (default: dut on gpio-sim, GPIO17 on a Pi)
//	GPIOHIL_NEIGHBOUR     the line cleanup must not touch (default: neighbour, or GPIO27 on a Pi)
//	GPIOHIL_PROFILES      comma-separated built-in profile names or profile files (default: every built-in)
//	GPIOHIL_EXPECTATIONS  an expectations file to use instead of the built-in one
//	GPIOHIL_JUNIT         where to write the JUnit report (default: none)
//	GPIOHIL_BOARD         the board's name for the report (default: the bench kind)
//
// Suites: persistence (set a line, end the tool, observe), cleanup (the tool's cleanup leaves
// an input and touches nothing else), ownership (a held line is busy, and named).
package suites

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

// Environment variables the suites read.
const (
	EnvBench        = "GPIOHIL_BENCH"
	EnvProfiles     = "GPIOHIL_PROFILES"
	EnvExpectations = "GPIOHIL_EXPECTATIONS"
	EnvJUnit        = "GPIOHIL_JUNIT"
	EnvBoard        = "GPIOHIL_BOARD"
	EnvDUT          = "GPIOHIL_DUT"
	EnvNeighbour    = "GPIOHIL_NEIGHBOUR"
	EnvRig          = "GPIOHIL_RIG"
	// EnvShard, "K/N", makes this process run only its share of the specs, the K-th of N
	// (see Shard); gpiohil run starts N VMs at once this way.
	EnvShard = "GPIOHIL_SHARD"
)

// Shard returns which share of the specs this process runs: k of n, 1-based; 1 of 1 when
// $GPIOHIL_SHARD is unset. Every process of a sharded run builds the same spec tree and runs
// it in the same order (the same Ginkgo seed); the i-th spec to start, counting from 0, is
// run by shard i mod n + 1 and skipped by the others, so each shard gets every n-th spec of
// every tool and ending and the shards take about the same time.
func Shard() (k, n int, err error) {
	v := os.Getenv(EnvShard)
	if v == "" {
		return 1, 1, nil
	}
	ks, ns, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("%s=%q: want K/N with 1 <= K <= N, e.g. 1/2", EnvShard, v)
	}
	return k, n, nil
}

// Line names the suites use on gpio-sim.
const (
	DUT       = "dut"       // the line under test
	Neighbour = "neighbour" // a line prepared differently, which cleanup must not touch
)

// LineNames returns the line under test and its neighbour on a bench of the given kind.
func LineNames(kind string) (dut, neighbour string) {
	dut, neighbour = DUT, Neighbour
	if kind != bench.KindGPIOSim {
		// Header pins 11 and 13 on every 40-pin Pi: free of boot-time functions.
		dut, neighbour = "GPIO17", "GPIO27"
	}
	if v := os.Getenv(EnvDUT); v != "" {
		dut = v
	}
	if v := os.Getenv(EnvNeighbour); v != "" {
		neighbour = v
	}
	return dut, neighbour
}

// Rig loads the rig file named by $GPIOHIL_RIG, or returns nil when it is unset.
func Rig() (*rig.Rig, error) {
	f := os.Getenv(EnvRig)
	if f == "" {
		return nil, nil
	}
	return rig.Load(f)
}

// Banks are the gpio-sim chips the suites need.
var Banks = []sim.Bank{{Label: "gpiohil-suite", Lines: []string{DUT, Neighbour, "spare"}}}

// Profiles returns the tool profiles to check: $GPIOHIL_PROFILES, or every built-in one.
func Profiles() ([]*profile.Profile, error) {
	v := os.Getenv(EnvProfiles)
	if v == "" {
		return profile.Builtin()
	}
	var ps []*profile.Profile
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		var p *profile.Profile
		var err error
		if strings.ContainsAny(name, "/.") {
			p, err = profile.Load(name)
		} else {
			p, err = profile.Lookup(name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvProfiles, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// OpenBench opens the bench $GPIOHIL_BENCH names.
func OpenBench() (bench.Bench, error) {
	switch kind := os.Getenv(EnvBench); kind {
	case "", bench.KindGPIOSim:
		if b, err := bench.GPIOSimFromEnv(); err == nil {
			return b, nil
		}
		return bench.NewGPIOSim(Banks)
	case bench.KindVMRPi3:
		return bench.NewEmulatedPi()
	case bench.KindRPi:
		r, err := Rig()
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fmt.Errorf("%s=%s needs %s, the rig file (see docs/hardware.md)", EnvBench, kind, EnvRig)
		}
		b, err := loopback.Open(r, loopback.Options{})
		if err != nil {
			return nil, err
		}
		// The wiring check runs before anything else; a pair that fails it refuses every later
		// operation with its *check.PairError (an infrastructure error).
		b.Check()
		return b, nil
	default:
		return nil, fmt.Errorf("%s=%s: unknown bench; want %s, %s or %s", EnvBench, kind, bench.KindGPIOSim, bench.KindVMRPi3, bench.KindRPi)
	}
}
