package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gpiohil/gpiohil/loopback/header"
	"github.com/gpiohil/gpiohil/loopback/rig"
)

// wiringCmd is `gpiohil wiring [--rig FILE] [--svg | --yaml --board NAME]`: where the loopback
// jumpers go on the 40-pin header.
func wiringCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil wiring", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rigFile := fs.String("rig", "", "rig file to draw (default: the built-in plan)")
	svg := fs.Bool("svg", false, "write an SVG picture instead of text")
	asYAML := fs.Bool("yaml", false, "write the built-in plan as a rig file for --board, to start a rig from")
	board := fs.String("board", "", "board for --yaml, e.g. pi4-b or pi5")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil wiring [--rig FILE] [--svg]\n       gpiohil wiring --yaml --board NAME > rig.yaml\n  draws where the loopback jumpers go on a Raspberry Pi's 40-pin header")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("gpiohil wiring: unexpected argument %q", fs.Arg(0))
	}
	if *asYAML {
		if *rigFile != "" || *svg {
			return 0, usagef("gpiohil wiring: --yaml writes the built-in plan; it goes with neither --rig nor --svg")
		}
		if *board == "" {
			return 0, usagef("gpiohil wiring: --yaml needs --board (one of the boards a rig may name, e.g. pi4-b or pi5)")
		}
		r, err := rig.Default(*board)
		if err != nil {
			return 0, usagef("gpiohil wiring: %v", err)
		}
		_, err = stdout.Write(r.WriteYAML())
		return 0, err
	}
	plan := header.Default()
	if *rigFile != "" {
		r, err := rig.Load(*rigFile)
		if err != nil {
			return 1, err
		}
		plan = r.Plan()
	} else if *board != "" {
		r, err := rig.Default(*board)
		if err != nil {
			return 0, usagef("gpiohil wiring: %v", err)
		}
		plan = r.Plan()
		plan.Title = "built-in plan, " + plan.Title
	}
	if *svg {
		return 0, header.WriteSVG(stdout, plan)
	}
	return 0, header.WriteText(stdout, plan)
}
