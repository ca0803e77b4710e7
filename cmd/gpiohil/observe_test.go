package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/loopback/rig"
)

func TestObserveHelpNamesEveryBench(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := observeCmd(context.Background(), []string{"-h"}, &bytes.Buffer{}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("gpiohil observe -h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{observeUsage, "-bench bench\n", "-rig file\n", "pinctrl (a Raspberry Pi 0 to 4's own chip)", "optional on a Raspberry Pi and with --rig"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
}

// Bad input is a usage error (exit 2) naming what is wrong, found before any chip is opened.
func TestObserveUsageErrors(t *testing.T) {
	dir := t.TempDir()
	r, err := rig.Default("pi4-b")
	if err != nil {
		t.Fatal(err)
	}
	rigFile := filepath.Join(dir, "rig.yaml")
	if err := os.WriteFile(rigFile, r.WriteYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("board: pi9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "gpiohil observe: no line to observe: name at least one; usage: " + observeUsage},
		{[]string{"--bench", "vm"}, `invalid value "vm" for flag -bench: bench "vm": want one of auto, gpio-sim, pinctrl, rpi`},
		{[]string{"--bench", "rpi", "GPIO17"}, "--bench rpi observes from partner pins: it needs the rig file (--rig FILE)"},
		{[]string{"--rig", rigFile, "--bench", "gpio-sim", "GPIO17"}, "--rig goes with --bench rpi or auto, not gpio-sim"},
		{[]string{"--rig", bad, "GPIO17"}, "bad.yaml:1:"},
		{[]string{"--rig", filepath.Join(dir, "none.yaml"), "GPIO17"}, "none.yaml"},
	} {
		var ue usageError
		_, err := observeCmd(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gpiohil observe %q: %v; want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}
