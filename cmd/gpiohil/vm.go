package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/smoke"
	"github.com/gpiohil/gpiohil/harness/vm"
)

// simFlag collects repeated --sim LABEL=N|LABEL=NAME,... flags.
type simFlag []sim.Bank

func (s *simFlag) String() string { return "" }

func (s *simFlag) Set(v string) error {
	b, err := sim.ParseBank(v)
	if err != nil {
		return err
	}
	*s = append(*s, b)
	return nil
}

// shareFlag collects repeated --share DIR[:ro] flags.
type shareFlag []vm.Share

func (s *shareFlag) String() string { return "" }

func (s *shareFlag) Set(v string) error {
	sh := vm.Share{Path: v}
	if p, ok := strings.CutSuffix(v, ":ro"); ok {
		sh = vm.Share{Path: p, ReadOnly: true}
	}
	if sh.Path == "" {
		return fmt.Errorf("want DIR or DIR:ro")
	}
	*s = append(*s, sh)
	return nil
}

// vmFlags registers the flags that say how to boot, shared by every command that boots a VM.
func vmFlags(fs *flag.FlagSet, cfg *vm.Config) {
	// A word in backquotes is the flag's argument name in the help (package flag): "-kernel bzImage".
	fs.StringVar(&cfg.Kernel, "kernel", "", "guest kernel `bzImage` (default $GPIOHIL_KERNEL, else the one make kernel built)")
	fs.StringVar(&cfg.QEMU, "qemu", vm.DefaultQEMU, "QEMU `binary`")
	fs.StringVar(&cfg.Accel, "accel", "tcg", "accelerator: tcg, or kvm (used only after a probe boot proves it works)")
	fs.IntVar(&cfg.Memory, "memory", vm.DefaultMemory, "guest memory in MiB")
	fs.DurationVar(&cfg.Timeout, "timeout", vm.DefaultTimeout, "kill the VM when the run takes longer")
	fs.StringVar(&cfg.Append, "append", "", "extra kernel command line")
}

// parseVMRun parses `gpiohil vm run` arguments into a VM configuration.
func parseVMRun(args []string, stderr io.Writer) (vm.Config, bool, error) {
	var cfg vm.Config
	var sims simFlag
	var shares shareFlag
	var verbose bool
	fs := flag.NewFlagSet("gpiohil vm run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: "+vmWant)
		fs.PrintDefaults()
	}
	vmFlags(fs, &cfg)
	fs.Var(&sims, "sim", "create a gpio-sim chip: `LABEL=N` (lines LABEL-0...) or LABEL=NAME,NAME,...; repeat for more chips")
	fs.Var(&shares, "share", "also share host directory `DIR` (DIR:ro for read-only) at the same path; repeatable")
	fs.StringVar(&cfg.Dir, "dir", "", "working `directory`, shared read-write with the guest (default the current directory)")
	fs.BoolVar(&verbose, "v", false, "copy the guest console (kernel and agent messages) to stderr")
	fs.StringVar(&cfg.Fault, "agent-fault", "", "make the guest agent fail at a step (for testing gpiohil itself)")
	if err := parse(fs, args, stderr); err != nil {
		return cfg, verbose, err
	}
	cfg.Args = fs.Args()
	if len(cfg.Args) == 0 {
		return cfg, verbose, usagef("gpiohil vm run: no command given; usage: %s", vmWant)
	}
	if cfg.Timeout <= 0 {
		return cfg, verbose, usagef("gpiohil vm run: --timeout must be positive, got %v", cfg.Timeout)
	}
	if cfg.Memory < 64 {
		return cfg, verbose, usagef("gpiohil vm run: --memory %d MiB is too small; the guest needs at least 64", cfg.Memory)
	}
	cfg.Sim = sims
	cfg.Shares = shares
	if err := sim.Validate(cfg.Sim); err != nil {
		return cfg, verbose, usagef("gpiohil vm run: %v", err)
	}
	return cfg, verbose, nil
}

// vmWant is what `gpiohil vm` takes.
const vmWant = "gpiohil vm run [flags] -- CMD [ARGS...]"

// vmUsage is `gpiohil vm -h`.
const vmUsage = `usage: ` + vmWant + `
  run CMD in a QEMU VM whose kernel has gpio-sim (the kernel make kernel builds); the host's
  root is shared read-only, the current directory read-write; gpiohil exits with CMD's status
  (124: timeout, 125: the VM could not run it, 126/127: CMD not runnable / not found)
run 'gpiohil vm run -h' for its flags
`

// vmCmd is `gpiohil vm SUBCOMMAND`: run is the only subcommand; -h prints the usage.
func vmCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return 0, usageError{msg: "gpiohil vm: want '" + vmWant + "'", cmd: "gpiohil vm"}
	}
	switch args[0] {
	case "run":
		return vmRun(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, vmUsage)
		return 0, nil
	}
	return 0, usageError{msg: fmt.Sprintf("gpiohil vm: unknown subcommand %q; want '%s'", args[0], vmWant), cmd: "gpiohil vm"}
}

// vmRun is `gpiohil vm run`.
func vmRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	cfg, verbose, err := parseVMRun(args, stderr)
	if err != nil {
		return 0, err
	}
	cfg.Stdout, cfg.Stderr = stdout, stderr
	if verbose {
		cfg.Console = stderr
	}
	return runVM(ctx, cfg)
}

// runVM runs cfg and maps how it ended to gpiohil's exit status.
func runVM(ctx context.Context, cfg vm.Config) (int, error) {
	res, err := vm.Run(ctx, cfg)
	var te *vm.TimeoutError
	switch {
	case errors.As(err, &te):
		return exitTimeout, err
	case err != nil:
		return exitVM, err
	}
	return res.Code, nil
}

func smokeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if runenv.InVM() {
		if err := smoke.Check(stdout); err != nil {
			return 1, err
		}
		return 0, nil
	}
	var cfg vm.Config
	fs := flag.NewFlagSet("gpiohil smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vmFlags(fs, &cfg)
	fs.Lookup("timeout").DefValue = "2m0s"
	cfg.Timeout = 2 * time.Minute
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "gpiohil smoke: the VM lane's own check (boot, gpio-sim chip %q, set and observe a line)\n", smoke.Bank.Label)
	cfg.Args = []string{self, "smoke"}
	cfg.Sim = []sim.Bank{smoke.Bank}
	cfg.Stdout, cfg.Stderr = stdout, stderr
	code, err := runVM(ctx, cfg)
	if err == nil && code != 0 {
		err = fmt.Errorf("smoke check failed in the VM (exit %d)", code)
	}
	return code, err
}
