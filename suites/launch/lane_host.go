package launch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// interruptGrace is how long the suites get after SIGINT to restore the lines and write their
// partial report before they are killed.
const interruptGrace = 30 * time.Second

// hostLane runs the suites as a process of this host: on the running kernel's gpio-sim, or on
// this board through its loopback rig.
type hostLane struct{ kind vocab.BenchKind }

func (l hostLane) Name() string               { return string(l.kind) }
func (l hostLane) Report(junit string) string { return junit }

func (l hostLane) Run(ctx context.Context, job Job) (int, error) {
	bin := job.Suites
	if bin == "" {
		var err error
		if bin, err = FindSuites(job.Self); err != nil {
			return 0, err
		}
	}
	run := job.Run
	run.Bench, run.JUnit = l.kind, job.JUnit
	if l.kind != vocab.KindRPi {
		run.Rig = ""
	}
	cmd := exec.CommandContext(ctx, bin, job.Args...)
	// On Ctrl-C the suites get SIGINT, so Ginkgo runs every DeferCleanup and the bench
	// restores the lines it touched; only a suite that ignores it is killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = interruptGrace
	cmd.Env = append(runenv.Without(os.Environ()), run.Environ()...)
	cmd.Stdout, cmd.Stderr = job.Stdout, job.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}

func (l hostLane) Props() []junit.Property {
	return []junit.Property{{Name: "bench", Value: string(l.kind)}, {Name: "board", Value: string(l.kind)}}
}
