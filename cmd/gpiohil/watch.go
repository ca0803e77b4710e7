package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

const watchUsage = "gpiohil watch [--for DURATION] [--rig FILE] [CHIP] LINE..."

// watchCmd is `gpiohil watch`: every request, change and release of lines, every level gpiolib
// sets on them, and with a rig the wire's edges at their partners, as they happen, until
// interrupted (package onbench's Watch). Ctrl-C is how it is meant to end: exit 0.
func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := fs.Duration("for", 0, "stop after this `duration` (default: until interrupted)")
	rigFile := fs.String("rig", "", "a loopback rig `file` (gpiohil wiring --yaml): also watch each line under test's partner pin, whose edges are the wire's real level")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n  prints each request, reconfiguration and release of the lines as the kernel reports it (line\n  info), each level and direction gpiolib sets on them (its trace events, as root on a kernel\n  that has them), and with --rig each edge at their partner pins, with the kernel's\n  timestamps. It never requests the lines it watches. CHIP is a chip's label (gpiodetect lists them),\n  optional on a Raspberry Pi and with --rig; LINE a line's name, or its offset.\n", watchUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	req := onbench.Request{Bench: onbench.Auto, Args: fs.Args()}
	if *rigFile != "" {
		r, err := rig.Load(*rigFile)
		if err != nil {
			return 0, usagef("gpiohil watch: %v", err)
		}
		req.Rig = r
	}
	if err := req.Validate(); err != nil {
		return 0, usagef("gpiohil watch: %v; usage: %s", err, watchUsage)
	}
	if *d < 0 {
		return 0, usagef("gpiohil watch: --for %v: want a positive duration", *d)
	}
	if err := onbench.Watch(ctx, req, *d, stdout); err != nil {
		return lookExit(err), err
	}
	return 0, nil
}
