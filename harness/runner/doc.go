// Package runner runs one action of a GPIO tool as a subprocess, ends it in a
// chosen way, and waits until it is really gone, so that what is observed
// afterwards is the state the tool left behind.
//
// Typical use, with an action from a tool profile:
//
//	argv, err := p.Command(vocab.Hold, vars)
//	...
//	res, err := runner.Run(ctx, runner.Spec{
//		Argv:   argv,                        // gpioset --mode=signal ... /dev/gpiochip3 5=1
//		Ready:  p.Actions[vocab.Hold].Ready, // "" for gpioset: wait Settle instead
//		Ending: vocab.SIGTERM,
//	})
//	// The tool is gone: observe the line now. res.Signal or res.ExitCode say how it
//	// ended, res.Stdout and res.Stderr what it said.
//
// # Endings
//
//   - [vocab.Exit]: the tool ends by itself (gpioset v1's default mode, a script that
//     sets a line and returns).
//   - [vocab.SIGINT], [vocab.SIGTERM], [vocab.SIGKILL]: a holding tool is signalled once it has
//     settled, the way Ctrl-C, systemd or kill -9 would. The signal goes to
//     the tool's whole process group, as a terminal's Ctrl-C does.
//   - [vocab.ParentDeath]: the tool runs as the child of an intermediate parent
//     process, which is SIGKILLed once the tool has settled. Most tools do
//     not notice; a tool that set PR_SET_PDEATHSIG or watches its parent dies
//     too. Run waits [ParentDeathGrace] and records in Result.SurvivedParent
//     whether the tool outlived its parent; a survivor is then SIGKILLed.
//
// A tool "settles" when it prints Spec.Ready (if set) or, failing that, once
// Spec.Settle has passed since it started. A holding tool that exits before it
// can be ended gets an error matching [ErrExitedEarly].
//
// # Hangs, leaks and output
//
// Everything a run does is bounded by Spec.Deadline. A tool that does not exit
// in time, or ignores its signal, is SIGKILLed with its process group and Run
// returns an error matching [ErrHung], such as
//
//	runner: gpioset did not exit within 5s (killed); last output: "..."
//
// Every tool starts in a process group of its own. After the tool has ended,
// any process still in that group (a child the tool forked) is SIGKILLed and
// counted in Result.Leftovers, so nothing outlives a run. A tool that daemonizes
// into a new session escapes this sweep. Stdout and stderr are captured, each
// bounded to the last [OutputLimit] bytes.
//
// # The intermediate parent
//
// For ParentDeath, Run re-executes the running binary as the parent: it must
// call [MaybeRunParent] first thing in main (and in TestMain for tests), which
// turns the process into the parent when Run asks for one and returns at once
// otherwise. Re-executing gpiohil itself works where no shell exists (the
// VM's initramfs); a shell as parent ("sh -c 'tool & wait'") would also start
// the tool with SIGINT and SIGQUIT ignored, as POSIX requires for background
// jobs of a non-interactive shell, which changes what is being measured.
// The parent never reaps the tool, so the tool's pid stays reserved until the
// parent dies, and Run makes its own process a child subreaper
// (PR_SET_CHILD_SUBREAPER) so the orphaned tool becomes Run's child: Run can
// then learn how it ended and reap it. Being a subreaper is a process-wide,
// permanent attribute: other orphaned descendants of the process are re-parented
// to it too.
package runner
