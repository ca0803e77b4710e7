package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gpiohil/gpiohil/harness/drive"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// driveCmd runs `gpiohil drive`, the reference GPIO tool; package harness/drive is its manual.
// It takes no context on purpose: how a signal ends the tool is the behaviour under test, and
// drive.Run sets that up itself.
func driveCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	cfg, err := parseDrive(args, stderr)
	if err != nil {
		return 0, err
	}
	if err := drive.Run(cfg, stdout); err != nil {
		return 1, err
	}
	return 0, nil
}

// parseDrive parses `gpiohil drive` arguments into a checked configuration.
func parseDrive(args []string, stderr io.Writer) (drive.Config, error) {
	cfg := drive.Config{Mode: drive.ModeExit, Bias: vocab.BiasAsIs, Direction: vocab.Output}
	fs := flag.NewFlagSet("gpiohil drive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil drive [flags] LINE[=VALUE]...")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Chip, "chip", "", "look for the lines on this chip only: gpiochip3, /dev/gpiochip3 or a chip label; LINE may then be an offset")
	fs.Var(&cfg.Mode, "mode", "how to end: exit, cleanup, hold, hold-cleanup or panic")
	fs.Var(&cfg.Bias, "bias", "pull to request: pull-up, pull-down, disabled or as-is")
	fs.Var(&cfg.Direction, "direction", "output (LINE=VALUE) or input (LINE)")
	fs.StringVar(&cfg.Consumer, "consumer", drive.DefaultConsumer, "consumer name line info shows for the request")
	if err := parse(fs, args, stderr); err != nil {
		return cfg, err
	}
	cfg.Lines = fs.Args()
	for _, l := range cfg.Lines {
		if strings.HasPrefix(l, "-") {
			return cfg, usagef("gpiohil drive: %q: flags go before the lines", l)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("gpiohil %v", err)
	}
	return cfg, nil
}
