package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/observe/onbench"
)

const watchUsage = "gpiohil watch [--for DURATION] [CHIP] LINE..."

// watchCmd is `gpiohil watch`: every request, change and release of lines, as the kernel
// reports them, until interrupted (package onbench's Watch). Ctrl-C is how it is meant to end:
// exit 0.
func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := fs.Duration("for", 0, "stop after this `duration` (default: until interrupted)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n  prints each request, reconfiguration and release of the lines as the kernel reports it\n  (line-info events, with the kernel's timestamps), without requesting them. CHIP is a chip's\n  label (gpiodetect lists them), optional on a Raspberry Pi; LINE a line's name, or its offset.\n", watchUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	req := onbench.Request{Bench: onbench.Auto, Args: fs.Args()}
	if err := req.Validate(); err != nil {
		return 0, usagef("gpiohil watch: %v; usage: %s", err, watchUsage)
	}
	if *d < 0 {
		return 0, usagef("gpiohil watch: --for %v: want a positive duration", *d)
	}
	if err := onbench.Watch(ctx, req, *d, stdout); err != nil {
		return 1, err
	}
	return 0, nil
}
