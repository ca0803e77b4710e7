package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
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

// runUsage is gpiohil run's help, before its flags.
const runUsage = `usage: gpiohil run [flags]
  runs the persistence, cleanup, ownership and timeline suites for every tool profile on a bench.

  Output: a progress line per lane, each failure in full as it happens, and a summary; the
  suites' whole stream goes to the log (--log), and to the terminal too with -v.

  Reports (--junit): a bench with one lane writes FILE; one with several (vm-rpi3: eight, the
  emulated Pi 3 and Pi 4, each with two Debian userlands, persist off and on) writes FILE with
  the lane's name before .xml (suites-bookworm-persist-off.xml, suites-pi4-trixie-persist-on.xml, ...).
  A directory (DIR/) gets suites-BENCH.xml, or suites-BENCH-LANE.xml per lane. A run cut short
  still writes them: every spec that finished, and every other as an error saying why.

  Exit status: 0 every spec met its expectation; 1 a spec did not (a product finding);
  2 bad input (a flag, profile, rig, expectations file, label filter or output path), found
  before anything boots; 124 the run's own --timeout; 125 infrastructure (QEMU, a kernel, a VM
  that crashed, a lane that could not run, a spec that could not run); 130 or 143 interrupted
  by SIGINT or SIGTERM.

flags:`

// runCmd is `gpiohil run`: the suites on a bench, with JUnit, a matrix-ready report and a summary.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	var cfg launch.Config
	var tools, lanes listFlag
	var verbose, list, version bool
	logPath := filepath.Join("build", "gpiohil-run.log")
	fs := flag.NewFlagSet("gpiohil run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), runUsage)
		fs.PrintDefaults()
	}
	cfg.Bench = vocab.BenchAuto
	fs.Var(&cfg.Bench, "bench", "where the pins live: auto (gpio-sim on this kernel when possible, else the VM), vm, gpio-sim, vm-rpi3 (the emulated Raspberry Pi 3 and 4), rpi (this board, with --rig)")
	fs.Var(&lanes, "lanes", "vm-rpi3 lanes: "+laneNames(rpi3.Lanes)+" (the default: all of them; pi4- is the emulated Pi 4), or "+laneNames(rpi3.BareLanes)+" (Pi 3, gpiohil and busybox only)")
	fs.StringVar(&cfg.Rig, "rig", "", "rpi bench: the rig file naming the board, chip and jumpered pairs (docs/hardware.md)")
	fs.Var(&tools, "tools", "tool profiles to check: built-in names or profile files, comma-separated (default: every built-in)")
	fs.StringVar(&cfg.LabelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'persistence && tool:libgpiod-v1'")
	fs.StringVar(&cfg.JUnit, "junit", "", "JUnit report: FILE, or DIR/ (default build/junit/suites-BENCH.xml; see above for benches with several lanes)")
	var rules listFlag
	fs.Var(&rules, "expectations", "expectations files added to the built-in ones (comma-separated or repeated; a conflict is an error)")
	fs.BoolVar(&cfg.OnlyExpect, "no-builtin-expectations", false, "use only the --expectations files, not the built-in expectations")
	fs.BoolVar(&cfg.NoTimeline, "no-timeline", false, "record no timeline of what the line did for the persistence and cleanup specs (the timeline suite still records its own)")
	fs.StringVar(&cfg.Suites, "suites", "", "the suites test binary (default: suites.test next to gpiohil, $GPIOHIL_SUITES, or built with go test -c)")
	fs.StringVar(&cfg.Board, "board", "", "the board's name in reports")
	fs.StringVar(&cfg.VM.Kernel, "kernel", "", "the VM's kernel, a bzImage (vm bench; default: the one make kernel built)")
	fs.DurationVar(&cfg.VM.Timeout, "timeout", 0, "bound on the whole run (vm bench; default 30m)")
	fs.IntVar(&cfg.VMs, "vms", 0, fmt.Sprintf("vm bench: VMs sharing the specs; vm-rpi3: lanes booted at once (default one per CPU, here %d; at most %d)", launch.DefaultVMs(), launch.MaxVMs))
	fs.BoolVar(&verbose, "v", false, "print the suites' whole stream as it comes, not a progress line")
	fs.StringVar(&logPath, "log", logPath, "the suites' whole stream goes here")
	fs.BoolVar(&list, "list", false, "print the specs the run would run, per lane, and exit without booting anything")
	fs.BoolVar(&version, "version", false, "print gpiohil's version and the kernels and QEMU it would use")
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	switch {
	case version:
		fmt.Fprint(stdout, versionText())
		return 0, nil
	case fs.NArg() > 0:
		return 0, usagef("gpiohil run: unexpected arguments %q", fs.Args())
	case cfg.VMs < 0 || cfg.VMs > launch.MaxVMs:
		return 0, usagef("gpiohil run: --vms %d: want 1 to %d", cfg.VMs, launch.MaxVMs)
	}
	cfg.Lanes, cfg.Profiles, cfg.Expectations = lanes, tools, rules
	cfg.Stdout, cfg.Stderr = stdout, stderr
	if list {
		return listCmd(ctx, cfg, stdout)
	}
	logFile, err := createLog(logPath)
	if err != nil {
		return 0, usagef("gpiohil run: --log %s: %v", logPath, err)
	}
	defer logFile.Close()
	cfg.Console = launch.NewConsole(stdout, logFile, verbose)
	sum, err := launch.Run(ctx, cfg)
	code, err := runStatus(ctx, sum, err)
	if code != exitUsage {
		launch.WriteSummary(stdout, sum)
		fmt.Fprintf(stdout, "log: %s\n", logPath)
	}
	return code, err
}

// runStatus is gpiohil run's exit status for how the run ended (see runUsage).
func runStatus(ctx context.Context, sum launch.Summary, err error) (int, error) {
	var in *launch.InputError
	var timeout *vm.TimeoutError
	if code, ok := interrupted(ctx); ok {
		return code, context.Cause(ctx)
	}
	switch {
	case errors.As(err, &in):
		return exitUsage, usageError{msg: "gpiohil run: " + in.Error(), cmd: "gpiohil run"}
	case errors.As(err, &timeout):
		return exitTimeout, err
	case err != nil:
		return exitVM, err
	case sum.Failed > 0:
		return 1, nil
	case sum.Errors > 0:
		return exitVM, fmt.Errorf("%d specs could not run (infrastructure errors; see above and the log)", sum.Errors)
	}
	return 0, nil
}

// listCmd is gpiohil run --list.
func listCmd(ctx context.Context, cfg launch.Config, stdout io.Writer) (int, error) {
	specs, err := launch.List(ctx, cfg)
	var in *launch.InputError
	if errors.As(err, &in) {
		return exitUsage, usageError{msg: "gpiohil run: " + in.Error(), cmd: "gpiohil run"}
	}
	if err != nil {
		return exitVM, err
	}
	cfg.Bench = launch.PickBench(cfg.Bench)
	lanes, err := launch.Lanes(cfg)
	if err != nil {
		return exitUsage, usageError{msg: "gpiohil run: " + err.Error(), cmd: "gpiohil run"}
	}
	var names []string
	for _, l := range lanes {
		names = append(names, l.Name())
	}
	fmt.Fprintf(stdout, "%d specs on each lane of bench %s (%s):\n", len(specs), cfg.Bench, strings.Join(names, ", "))
	for _, s := range specs {
		fmt.Fprintln(stdout, s)
	}
	return 0, nil
}

// createLog creates the log file and its directory.
func createLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

// laneNames lists lanes' names, comma-separated.
func laneNames(lanes []rpi3.Lane) string {
	names := make([]string, len(lanes))
	for i, l := range lanes {
		names[i] = l.Name
	}
	return strings.Join(names, ", ")
}
