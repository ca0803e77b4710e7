package launch

import (
	"context"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// A Lane is one place the suites run and report from: one JUnit report, one column of the
// semantics matrix. It owns how the suites get there (a process on this host, VMs, an
// emulated Pi) and what they see (the bench kind, the guest's paths).
type Lane interface {
	// Name is how messages name the lane, e.g. "vm" or "vm-rpi3 persist-off".
	Name() string
	// Report is where the lane's JUnit report goes, given the run's --junit path.
	Report(junit string) string
	// Props are what the lane's report says of its platform before its suites do: the bench,
	// the board; a report made for a lane cut short (salvage) carries them.
	Props() []junit.Property
	// Run runs the suites with the job's configuration and writes their JUnit report to
	// job.JUnit. It returns the suites' exit status; its error means the lane could not run
	// (QEMU, the kernel, a VM crash), not that a spec failed.
	Run(ctx context.Context, job Job) (int, error)
}

// Job is what every lane of one run shares.
type Job struct {
	Run    runenv.Run // the suites' run configuration, with host paths; a lane adds its own part
	Args   []string   // the suites binary's flags
	Self   string     // the gpiohil binary
	Suites string     // the suites binary as given; "" means each lane finds its own
	JUnit  string     // where this lane's report goes
	// Stream returns a writer for the output of one of the lane's suites processes; prefix
	// starts each of its lines in the log (e.g. "[vm 1/2] "). Stdout and Stderr are two
	// such writers, for a lane that runs one process.
	Stream         func(prefix string) io.Writer
	Stdout, Stderr io.Writer
	// Note prints a line of gpiohil's own about the lane (building a kernel, ...).
	Note func(format string, args ...any)
}

// Lanes returns the lanes of cfg.Bench (resolved: not auto), in the order they run.
func Lanes(cfg Config) ([]Lane, error) {
	switch cfg.Bench {
	case vocab.BenchGPIOSim:
		return []Lane{hostLane{kind: vocab.KindGPIOSim}}, nil
	case vocab.BenchRPi:
		return []Lane{hostLane{kind: vocab.KindRPi}}, nil
	case vocab.BenchVM:
		n := cfg.VMs
		if n <= 0 {
			n = DefaultVMs()
		}
		if n > MaxVMs {
			return nil, fmt.Errorf("--vms %d: at most %d", n, MaxVMs)
		}
		return []Lane{vmLane{vm: cfg.VM, vms: n}}, nil
	case vocab.BenchVMRPi3:
		lanes := rpi3.Lanes
		if len(cfg.Lanes) > 0 {
			lanes = nil
			for _, n := range cfg.Lanes {
				l, err := rpi3.LaneByName(n)
				if err != nil {
					return nil, err
				}
				lanes = append(lanes, l)
			}
		}
		var out []Lane
		for _, l := range lanes {
			out = append(out, piLane{lane: l, timeout: cfg.VM.Timeout})
		}
		return out, nil
	}
	return nil, fmt.Errorf("bench %q unknown; want %s", cfg.Bench, vocab.OneOf(vocab.Benches))
}
