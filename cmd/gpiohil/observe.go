package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
)

// observeCmd is `gpiohil observe [--json] CHIP LINE...`: what the observer sees, without
// requesting the lines.
func observeCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil observe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON with the evidence behind each field")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil observe [--json] CHIP LINE...\n  CHIP is a gpio-sim chip's label; LINE a line name or offset")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	if fs.NArg() < 2 {
		return 0, usagef("gpiohil observe: want a chip label and at least one line; usage: gpiohil observe [--json] CHIP LINE...")
	}
	obs, err := bench.ObserveSim(fs.Arg(0), fs.Args()[1:])
	if err != nil {
		return 1, err
	}
	if *asJSON {
		return 0, observe.WriteJSON(stdout, obs)
	}
	return 0, observe.WriteTable(stdout, obs)
}
