// Command gpiohil checks what state GPIO lines are left in when a program that drives them
// exits, is killed or cleans up.
//
// Usage:
//
//	gpiohil run [flags]                       run the suites for every tool on a bench (the main job)
//	gpiohil report [flags] JUNIT...           the answer and the semantics matrix from JUnit reports; --baseline compares runs
//	gpiohil vm run [flags] -- CMD [ARGS...]   run CMD in a QEMU VM whose kernel has gpio-sim
//	gpiohil smoke [flags]                     check, in the VM, that a sim line can be set and observed
//	gpiohil observe [flags] [CHIP] LINE...    what lines are doing, without requesting them: gpio-sim, a Pi's pinctrl, a rig
//	gpiohil watch [--for D] [CHIP] LINE...    every request, change and release of lines as it happens, until Ctrl-C
//	gpiohil drive [flags] LINE[=VALUE]...     set GPIO lines, then exit, clean up, hold or crash (the reference tool)
//	gpiohil wiring [--rig FILE] [--svg]       where the loopback jumpers go on a Raspberry Pi's 40-pin header
//	gpiohil --version                         gpiohil's version, and the kernels and QEMU it would use
//
// `gpiohil run` prints a progress line per lane, each failure in full as it happens, and a
// summary; -v prints the suites' whole stream, which always goes to --log (build/gpiohil-run.log).
// Its exit statuses:
//
//	0    every spec met its expectation
//	1    a spec did not: a product finding
//	2    bad input (a flag, profile, rig, expectations file, label filter, output path), before anything boots
//	124  the run's own --timeout
//	125  infrastructure: QEMU, a kernel, a VM that crashed, a lane or a spec that could not run
//	130  interrupted by SIGINT; 143 by SIGTERM (the reports still hold every finished spec)
//
// `gpiohil observe` and `gpiohil watch` exit 0 when they could look (watch: until interrupted
// or --for), 2 on bad input (a flag, a rig file, a chip or line that is not here or reserved,
// a bench that does not fit the chip), 125 when the machine failed them (no permission, a kernel error,
// the board lock held).
//
// `gpiohil vm run` boots the kernel built by `make kernel`, shares the host's root file system
// read-only and the current directory read-write, creates the gpio-sim chips asked for with
// --sim, runs CMD and exits with its status. Exit statuses of gpiohil vm run itself:
//
//	0-123  the command's own exit status (128+N when a signal N killed it)
//	2      bad arguments
//	124    the VM did not finish within --timeout and was killed
//	125    the VM could not run the command: QEMU or the kernel missing, kernel panic, agent failure
//	126    the command could not be started in the guest (permission)
//	127    the command was not found in the guest
//
// Example:
//
//	gpiohil vm run --sim gpiohil-a=8 --sim gpiohil-b=GPIO17,GPIO27 -- ls -l /dev
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/vm/guest"
)

// Exit statuses of gpiohil itself (see the package comment).
const (
	exitUsage   = 2
	exitTimeout = 124
	exitVM      = 125
	exitInfra   = 125 // the machine, not the input: a chip that cannot be opened, a kernel error
)

// lookExit is the exit status of `gpiohil observe` and `gpiohil watch` for err: 2 when what was
// named is not here or not to be touched (a chip, a line, a bench that does not fit, a reserved
// line), 125 when the machine failed (no permission, a kernel error, a board lock held).
func lookExit(err error) int {
	if onbench.BadInput(err) {
		return exitUsage
	}
	return exitInfra
}

func main() {
	if guest.IsAgent() {
		guest.Main()
	}
	// When the runner asked for an intermediate parent (to test a tool's parent dying), this
	// process is that parent and never returns from here.
	runner.MaybeRunParent()
	ctx, stop := notifyContext()
	code := mainImpl(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalled is the cause of a context that SIGINT or SIGTERM canceled: gpiohil then exits
// 128 plus the signal's number (130, 143), as a shell reports a process a signal ended.
type signalled struct{ sig syscall.Signal }

func (s signalled) Error() string {
	return "interrupted by " + map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[s.sig]
}

// notifyContext is canceled, with a signalled cause, by the first SIGINT or SIGTERM; a second
// one ends gpiohil at once.
func notifyContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := (<-sigs).(syscall.Signal)
		cancel(signalled{s})
		s = (<-sigs).(syscall.Signal)
		os.Exit(128 + int(s))
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// interrupted returns the exit status of a run a signal cut short, and whether it was.
func interrupted(ctx context.Context) (int, bool) {
	var s signalled
	if errors.As(context.Cause(ctx), &s) {
		return 128 + int(s.sig), true
	}
	if ctx.Err() != nil {
		return 128 + int(syscall.SIGINT), true
	}
	return 0, false
}

// usageError is a bad command line or input: gpiohil prints it in one line with a pointer to
// the command's help, and exits 2.
type usageError struct{ msg, cmd string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// parseError turns a flag parsing error into a usage error; -h stays flag.ErrHelp.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{msg: err.Error()}
}

// parse parses a command's flags: -h prints the command's usage; a bad flag is a one-line usage
// error naming it, not the whole usage.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return usageError{msg: fs.Name() + ": " + err.Error(), cmd: fs.Name()}
	}
	return nil
}

const usage = `usage:
  gpiohil run [flags]                       run the suites for every tool on a bench (the main job)
  gpiohil report [flags] JUNIT...           the semantics matrix from JUnit reports
  gpiohil vm run [flags] -- CMD [ARGS...]   run CMD in a QEMU VM whose kernel has gpio-sim
  gpiohil smoke [flags]                     check, in the VM, that a sim line can be set and observed
  gpiohil observe [flags] [CHIP] LINE...    what lines are doing, without requesting them: gpio-sim, a Pi's pinctrl, a rig
  gpiohil watch [flags] [CHIP] LINE...      every request, level and (with a rig) edge of lines as it happens, until Ctrl-C
  gpiohil drive [flags] LINE[=VALUE]...     set GPIO lines, then exit, clean up, hold or crash (the reference tool)
  gpiohil wiring [--rig FILE] [--svg]       where the loopback jumpers go on a Raspberry Pi's 40-pin header
  gpiohil --version                         gpiohil's version, and the kernels and QEMU it would use
run 'gpiohil COMMAND -h' for a command's flags
`

func mainImpl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "vm":
		code, err = vmCmd(ctx, args[1:], stdout, stderr)
	case "smoke":
		code, err = smokeCmd(ctx, args[1:], stdout, stderr)
	case "observe":
		code, err = observeCmd(ctx, args[1:], stdout, stderr)
	case "run":
		code, err = runCmd(ctx, args[1:], stdout, stderr)
	case "report":
		code, err = reportCmd(ctx, args[1:], stdout, stderr)
	case "drive":
		code, err = driveCmd(ctx, args[1:], stdout, stderr)
	case "wiring":
		code, err = wiringCmd(ctx, args[1:], stdout, stderr)
	case "watch":
		code, err = watchCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-version", "--version":
		fmt.Fprint(stdout, versionText())
		return 0
	default:
		err = usageError{msg: fmt.Sprintf("gpiohil: unknown command %q", args[0]), cmd: "gpiohil"}
	}
	var ue usageError
	switch {
	case err == nil:
		return code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		cmd := ue.cmd
		if cmd == "" {
			cmd = "gpiohil " + args[0]
		}
		fmt.Fprintf(stderr, "%s\nrun '%s -h' for help\n", err, cmd)
		return exitUsage
	}
	fmt.Fprintf(stderr, "gpiohil: %s\n", err)
	if code == 0 {
		code = 1
	}
	return code
}
