package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

const observeUsage = "gpiohil observe [--bench auto|gpio-sim|pinctrl|rpi] [--rig FILE] [--json] [CHIP] LINE..."

// observeCmd is `gpiohil observe`: what lines are doing, on the bench that can see them
// without requesting them, and why what it cannot see is unknown (package onbench).
func observeCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	req := onbench.Request{Bench: onbench.Auto}
	fs := flag.NewFlagSet("gpiohil observe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&req.Bench, "bench", "the `bench` that observes: gpio-sim, pinctrl (a Raspberry Pi 0 to 4's own chip), rpi (a loopback rig) or auto (the rig's with --rig, else the chip's driver decides)")
	rigFile := fs.String("rig", "", "a loopback rig `file` (gpiohil wiring --yaml): observe each line under test from its partner pin")
	asJSON := fs.Bool("json", false, "print JSON with the evidence behind each field and why each unknown one is unknown")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n  CHIP is a chip's label (gpiodetect lists them), optional on a Raspberry Pi and with --rig;\n  LINE a line's name, or its offset\n", observeUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	req.Args = fs.Args()
	if *rigFile != "" {
		r, err := rig.Load(*rigFile)
		if err != nil {
			return 0, usagef("gpiohil observe: %v", err)
		}
		req.Rig = r
	}
	if err := req.Validate(); err != nil {
		return 0, usagef("gpiohil observe: %v; usage: %s", err, observeUsage)
	}
	obs, err := onbench.Observe(req)
	if err != nil {
		return lookExit(err), err
	}
	if *asJSON {
		return 0, observe.WriteJSON(stdout, obs)
	}
	return 0, observe.WriteTable(stdout, obs)
}
