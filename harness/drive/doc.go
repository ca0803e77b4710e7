// Package drive is `gpiohil drive`, gpiohil's reference GPIO tool: a small program on
// github.com/warthog618/go-gpiocdev (the kernel's GPIO character device) that sets GPIO lines
// and then ends in a chosen way. gpiohil validates it like any other tool, and because its
// behaviour is known by construction it also checks gpiohil itself. It is written to be read:
// it shows how a Go program should find, request, hold, clean up and release GPIO lines.
//
// # Usage
//
//	gpiohil drive [--chip CHIP] [--mode MODE] [--bias BIAS] [--direction output|input] [--consumer NAME] LINE[=VALUE]...
//
// LINE is a line name, searched for on every chip (gpiocdev.FindLine). With --chip, LINE is an
// offset on that chip when it is a number and a line name on that chip otherwise. CHIP is a
// device name (gpiochip3), a path (/dev/gpiochip3) or a chip label (pinctrl-bcm2835); prefer
// labels and line names: the number the kernel gives a chip depends on what it registered first.
//
// VALUE, 0 or 1, is the level an output is driven to (the tool never sets active-low, so 1 is
// high); it is required with --direction output (the default) and refused with --direction
// input. --bias is one of pull-up, pull-down, disabled or as-is (the default: the request leaves
// the bias as it is). --consumer is the name line info shows for the request (default
// gpiohil-drive). Every line gets the same direction and bias. The lines of one chip are
// requested together, so the kernel grants all of them or none; when a request fails, nothing
// stays requested.
//
// Flags go before the lines. The --mode flag says how the tool ends, below.
//
// # Modes
//
//   - exit (the default): request and set the lines, then exit 0 without any cleanup. Exiting
//     closes the request's file descriptor, and the kernel releases the lines.
//   - cleanup: request and set the lines, then clean up the way RPi.GPIO's cleanup() does:
//     reconfigure the lines this process requested, and only those, to input with bias
//     disabled, release them, and exit 0.
//   - hold: request and set the lines, print "ready" on a line of its own to stdout, then hold
//     them until the process is killed. There is deliberately no signal handler: SIGINT,
//     SIGTERM and SIGHUP end the process at once through Go's default behaviour, which runs
//     no deferred code (a signal that was already ignored when the process started, such as
//     SIGHUP under nohup, stays ignored: that is Go's default too). It does not notice the
//     death of its parent.
//   - hold-cleanup: like hold, but a handler for SIGINT, SIGTERM and SIGHUP cleans up as in
//     cleanup mode and exits 0. SIGKILL cannot be handled: it ends the process as in hold.
//   - panic: request and set the lines, print "ready", then panic: Go prints the panic and
//     exits with status 2 while the lines are held, as a program crashing would.
//
// In hold, hold-cleanup and panic modes "ready" is printed only once the kernel granted the
// request and, in hold-cleanup, once the handler is installed, so a runner may signal the
// process as soon as it reads it.
//
// # What the lines are left in
//
// While a process holds a request, the lines are exactly as requested and line info shows it.
// What happens when the request is released (when the process closes it, exits, is killed or
// crashes) is up to the kernel, which the kernel's own documentation states as "uncontrolled":
//
//   - gpiolib itself never changes direction, level or pull on release. It clears its own
//     flags (bias, active-low, drive) but not its cached direction, so line info of a released
//     line is not evidence of what the pin does: it may still say "output", it never shows a
//     bias.
//   - The chip driver's free callback may change the pin. gpio-sim drives a released line to
//     its simulated pull and keeps its direction, so a released output reads the sim pull.
//     Mainline pinctrl-bcm2835 (Raspberry Pi 0 to 4) turns a released output into an input
//     unless the module parameter persist_gpio_outputs is set; Raspberry Pi's own kernels set
//     it, so there outputs keep being driven after the process ends. The Pi 5's RP1 driver has
//     the same parameter.
//   - A pull set with --bias is not undone on release. On gpio-sim, pull-up and pull-down
//     overwrite the simulated pull, which stays; disabled and as-is leave it unchanged
//     (gpio-sim cannot represent "no pull").
//
// So, per mode:
//
//   - exit, hold (on any signal), hold-cleanup (on SIGKILL) and panic all end with the kernel
//     releasing the lines as they were set: outputs stay outputs on gpio-sim (at the sim pull
//     level) and on Pi kernels with persist_gpio_outputs, and become inputs on mainline
//     pinctrl-bcm2835; the pull stays as --bias set it.
//   - cleanup, and hold-cleanup on SIGINT, SIGTERM or SIGHUP, leave the lines as inputs with
//     bias disabled before releasing them; inputs stay inputs on every driver above. On gpio-sim
//     the sim pull is still whatever the last pull-up or pull-down set, and the input reads it.
//
// # Exit status
//
//	0   done (exit and cleanup modes; hold-cleanup after a signal)
//	1   a runtime error: no such chip or line, line busy, no permission
//	2   bad arguments, or the panic of panic mode
//	    hold mode ends by the signal that killed it
//
// Errors name what failed: a missing chip lists the chips there are, a busy line names the
// consumer that holds it, a permission error says to run as root or join the gpio group.
//
// # Example
//
// Drive GPIO17 high with the pull-down enabled and hold it until Ctrl-C:
//
//	gpiohil drive --mode hold --bias pull-down GPIO17=1
//
// Set offsets 3 and 4 of the chip labelled gpiohil-a low, then clean up:
//
//	gpiohil drive --chip gpiohil-a --mode cleanup 3=0 4=0
package drive
