// Package profile describes GPIO tools under test as data.
//
// A tool profile is a small YAML file that says how to make one tool (libgpiod's
// gpioset, a python3-libgpiod script, a shell writing to /sys/class/gpio,
// gpiohil's own "gpiohil drive") perform a handful of standard actions on one
// line, how to tell whether the tool is installed, and what the tool's
// documentation promises about the line once the process has ended. The suites
// run every action of every installed profile through the runner and compare
// what the observer sees with the expectation for the platform.
//
// Built-in profiles live in builtin/*.yaml, are embedded in the binary and are
// listed by [Builtin] and found by [Lookup]; other files are read with [Load].
// docs/profiles.md has the same schema with worked examples.
//
// # Schema
//
//	name: libgpiod-v1          # required; [a-z0-9-]+, unique; built-ins match their file name
//	description: ...           # required; one line for reports
//	install-hint: ...          # optional; appended to every "not installed" reason
//	requires: [gpioset]        # required; programs that must be on PATH (or absolute paths that exist)
//	check-command: [...]       # optional; argv that must exit 0, e.g. python3 -c 'import gpiod'
//	version-command: [...]     # optional; argv whose first output line is the tool's version
//	version-match: ' v1\.'     # optional; regexp the version line must match (needs version-command)
//	bench-kinds: [gpio-sim]    # optional; benches the profile makes sense on (default: all)
//	access: kernel             # optional; kernel (default) or registers: the tool writes the GPIO registers itself
//	bias-words:                # optional; the tool's spelling of each bias (default: the bias itself)
//	  disabled: disable
//	actions:                   # required; at least one
//	  set-output:              # one of the action names below
//	    command: [...]         # required; argv, each element a Go text/template
//	    holds: false           # optional; default true for hold and hold-cleanup, false otherwise
//	    supports-bias: [as-is] # optional; biases the action can apply (default [as-is])
//	    ready: "ready"         # optional; text the tool prints once its lines are set
//	    promises:              # optional; what the tool's documentation promises
//	      after-exit: keeps    # after the process ends by itself (or after its cleanup)
//	      after-signal: ...    # after SIGINT or SIGTERM
//	      after-kill: ...      # after SIGKILL
//	      source: ...          # where the promise is written down
//	expect:                    # optional; what the actions leave behind, per ending (suites/expect)
//	  set-output: {exit: released-output}
//	  hold: {sigint: released-output, sigterm: released-output, sigkill: released-output, parent-death: released-output}
//
// A profile's expect: block is merged with the built-in expectations (a conflict is an error),
// so a tool of your own gets verdicts without a second file. Without one, a tool the built-in
// expectations do not know is expected what its promises say (Profile.PromisedOutcomes).
//
// Keys are checked strictly: an unknown key, a value of the wrong type, a
// missing required key, a duplicate key, an unknown action, bias, promise or
// bench kind, a template that does not parse or names an unknown variable are
// all load errors of type *[Error], which names the file, line and column:
//
//	libgpiod-v1.yaml:12:5: unknown key "exits" in action "set-output"; known keys: command, holds, supports-bias, ready, promises
//
// # Actions
//
//   - set-output: request the line as an output at Value with Bias, then end by
//     itself without any cleanup.
//   - set-input: request the line as an input with Bias, then end by itself.
//   - cleanup: request the line as an output, then run the tool's own cleanup
//     (whatever its documentation offers to give the line back), then end.
//   - hold: request the line as an output and keep it until signalled; whatever
//     the tool does on the signal is its own default behaviour.
//   - hold-cleanup: like hold, but a signal handler runs the tool's cleanup
//     before the process exits.
//   - crash: request the line as an output, then die of an unhandled error
//     (a Go panic, a Python exception) while holding it.
//
// A profile provides the actions its tool can do; [Profile.Command] returns an
// error matching [ErrUnsupported] for the others, so a spec can skip.
//
// # Template variables
//
// Every command element is a text/template executed with a [Vars]:
//
//	{{.Self}}        path of the gpiohil binary (see [Self])
//	{{.Chip}}        chip device path, /dev/gpiochip3
//	{{.ChipName}}    chip name, gpiochip3
//	{{.ChipLabel}}   chip label, gpio-sim.0-node0
//	{{.Line}}        line name
//	{{.Offset}}      line offset on the chip
//	{{.Value}}       0 or 1
//	{{.Bias}}        the bias in the tool's words (bias-words), e.g. "disable" for libgpiod v1
//	{{.SysfsNumber}} global GPIO number for /sys/class/gpio
//
// An element that renders to the empty string is dropped from the argv, so
// optional flags read naturally: "{{with .Bias}}--bias={{.}}{{end}}" together
// with a bias word "" for as-is leaves the flag out. requires, check-command
// and version-command may use {{.Self}} only. Commands are rendered at load
// time for every supported bias and both values, so a template that fails at
// run time fails at load time instead.
//
// # Promises
//
//   - keeps: the line keeps the direction, level and pull the tool set.
//   - input: the line is returned to input; nothing is promised about the pull.
//   - input-no-pull: the line is returned to input with the pull disabled.
//   - released-undefined: the line is released and the documentation says its
//     state is then undefined or may revert to a default.
//   - unspecified: the documentation says nothing (the default).
//
// Promises are the tool's claims, recorded so reports can set them beside what
// was measured; they are not the expectation a spec checks.
package profile
