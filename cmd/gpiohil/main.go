// Command gpiohil checks what state GPIO lines are left in when a program that drives them
// exits, is killed or cleans up.
//
// Usage:
//
//	gpiohil run [flags]                       run the suites for every tool on a bench (the main job)
//	gpiohil report [flags] JUNIT...           the semantics matrix from JUnit reports
//	gpiohil vm run [flags] -- CMD [ARGS...]   run CMD in a QEMU VM whose kernel has gpio-sim
//	gpiohil smoke [flags]                     check, in the VM, that a sim line can be set and observed
//	gpiohil observe [--json] CHIP LINE...     what gpio-sim lines are doing, without requesting them
//	gpiohil drive [flags] LINE[=VALUE]...     set GPIO lines, then exit, clean up, hold or crash (the reference tool)
//
// `gpiohil vm run` boots the kernel built by `make kernel`, shares the host's root file system
// read-only and the current directory read-write, creates the gpio-sim chips asked for with
// --sim, runs CMD and exits with its status. Exit statuses of gpiohil itself:
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

	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/vm/guest"
)

// Exit statuses of gpiohil itself (see the package comment).
const (
	exitUsage   = 2
	exitTimeout = 124
	exitVM      = 125
)

func main() {
	if guest.IsAgent() {
		guest.Main()
	}
	// When the runner asked for an intermediate parent (to test a tool's parent dying), this
	// process is that parent and never returns from here.
	runner.MaybeRunParent()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainImpl(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a bad command line: gpiohil prints it with the usage and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseError turns a flag parsing error into a usage error; -h stays flag.ErrHelp.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err.Error()}
}

const usage = `usage:
  gpiohil run [flags]                       run the suites for every tool on a bench (the main job)
  gpiohil report [flags] JUNIT...           the semantics matrix from JUnit reports
  gpiohil vm run [flags] -- CMD [ARGS...]   run CMD in a QEMU VM whose kernel has gpio-sim
  gpiohil smoke [flags]                     check, in the VM, that a sim line can be set and observed
  gpiohil observe [--json] CHIP LINE...     what gpio-sim lines are doing, without requesting them
  gpiohil drive [flags] LINE[=VALUE]...     set GPIO lines, then exit, clean up, hold or crash (the reference tool)
  gpiohil wiring [--rig FILE] [--svg]       where the loopback jumpers go on a Raspberry Pi's 40-pin header
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
		if len(args) < 2 || args[1] != "run" {
			err = usagef("gpiohil vm: want 'gpiohil vm run [flags] -- CMD [ARGS...]'")
			break
		}
		code, err = vmRun(ctx, args[2:], stdout, stderr)
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
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usagef("gpiohil: unknown command %q", args[0])
	}
	var ue usageError
	switch {
	case err == nil:
		return code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s\n%s", err, usage)
		return exitUsage
	}
	fmt.Fprintf(stderr, "gpiohil: %s\n", err)
	if code == 0 {
		code = 1
	}
	return code
}
