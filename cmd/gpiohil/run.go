package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// listFlag collects comma-separated or repeated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runCmd is `gpiohil run`: the suites on a bench, with JUnit and a summary.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	var cfg launch.Config
	var tools listFlag
	fs := flag.NewFlagSet("gpiohil run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil run [flags]\n  runs the persistence, cleanup and ownership suites for every tool profile on a bench")
		fs.PrintDefaults()
	}
	cfg.Bench = vocab.BenchAuto
	fs.Var(&cfg.Bench, "bench", "where the pins live: auto (gpio-sim on this kernel when possible, else the VM), vm, gpio-sim, vm-rpi3 (the emulated Raspberry Pi 3), rpi (this board, with --rig)")
	var lanes listFlag
	fs.Var(&lanes, "lanes", "vm-rpi3 lanes: persist-off, persist-on (default both)")
	fs.StringVar(&cfg.Rig, "rig", "", "rpi bench: the rig file naming the board, chip and jumpered pairs (docs/hardware.md)")
	fs.Var(&tools, "tools", "tool profiles to check: built-in names or profile files, comma-separated (default: every built-in)")
	fs.StringVar(&cfg.LabelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'persistence && tool:libgpiod-v1'")
	fs.StringVar(&cfg.JUnit, "junit", "", "JUnit report path (default build/junit/suites-BENCH.xml)")
	fs.StringVar(&cfg.Expectations, "expectations", "", "expectations file to use instead of the built-in one")
	fs.StringVar(&cfg.Suites, "suites", "", "the suites test binary (default: suites.test next to gpiohil, $GPIOHIL_SUITES, or built with go test -c)")
	fs.StringVar(&cfg.Board, "board", "", "the board's name in reports")
	fs.StringVar(&cfg.VM.Kernel, "kernel", "", "VM kernel (vm bench)")
	fs.DurationVar(&cfg.VM.Timeout, "timeout", 0, "bound on the whole run (vm bench; default 30m)")
	fs.IntVar(&cfg.VMs, "vms", 0, fmt.Sprintf("vm bench: VMs sharing the specs, run at once (default one per CPU, here %d; at most %d)", launch.DefaultVMs(), launch.MaxVMs))
	if err := fs.Parse(args); err != nil {
		return 0, parseError(err)
	}
	if fs.NArg() > 0 {
		return 0, usagef("gpiohil run: unexpected arguments %q", fs.Args())
	}
	if cfg.VMs < 0 || cfg.VMs > launch.MaxVMs {
		return 0, usagef("gpiohil run: --vms %d: want 1 to %d", cfg.VMs, launch.MaxVMs)
	}
	cfg.Lanes = lanes
	cfg.Profiles = tools
	cfg.Stdout, cfg.Stderr = stdout, stderr
	sum, err := launch.Run(ctx, cfg)
	if err != nil {
		return exitVM, err
	}
	launch.WriteSummary(stdout, sum)
	if !sum.OK() {
		return 1, nil
	}
	return 0, nil
}
