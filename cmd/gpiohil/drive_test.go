package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/drive"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// The tool's behaviour on real lines is tested in the VM by package harness/drive; these tests
// cover the command line, which needs no GPIO.

func TestParseDrive(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want drive.Config
	}{
		{[]string{"GPIO17=1"},
			drive.Config{Mode: drive.ModeExit, Bias: vocab.BiasAsIs, Direction: vocab.Output, Consumer: drive.DefaultConsumer, Lines: []string{"GPIO17=1"}}},
		{[]string{"--chip", "gpiohil-a", "--mode", "hold-cleanup", "--bias", "pull-down", "--consumer", "me", "3=1", "4=0"},
			drive.Config{Chip: "gpiohil-a", Mode: drive.ModeHoldCleanup, Bias: vocab.BiasPullDown, Direction: vocab.Output, Consumer: "me", Lines: []string{"3=1", "4=0"}}},
		{[]string{"-direction=input", "-bias=pull-up", "-mode=panic", "GPIO17", "GPIO27"},
			drive.Config{Mode: drive.ModePanic, Bias: vocab.BiasPullUp, Direction: vocab.Input, Consumer: drive.DefaultConsumer, Lines: []string{"GPIO17", "GPIO27"}}},
	} {
		var stderr bytes.Buffer
		got, err := parseDrive(tc.args, &stderr)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("gpiohil drive %q:\n got %+v, %v\nwant %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestDriveUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"drive"}, "gpiohil drive: no lines given; want LINE=VALUE (output) or LINE (input)"},
		{[]string{"drive", "--mode", "sideways", "L=1"}, `invalid value "sideways" for flag -mode: want exit, cleanup, hold, hold-cleanup or panic`},
		{[]string{"drive", "--bias", "up", "L=1"}, `invalid value "up" for flag -bias: want as-is, disabled, pull-up or pull-down`},
		{[]string{"drive", "--direction", "out", "L=1"}, `invalid value "out" for flag -direction: want output or input`},
		{[]string{"drive", "L"}, `gpiohil drive: "L": an output needs a value; write L=0 or L=1`},
		{[]string{"drive", "L=2"}, `gpiohil drive: "L=2": value "2" is not 0 or 1`},
		{[]string{"drive", "--direction", "input", "L=1"}, `gpiohil drive: "L=1": an input takes no value; write just L`},
		{[]string{"drive", "L=1", "L=0"}, "gpiohil drive: line L is given twice"},
		{[]string{"drive", "L=1", "--mode", "hold"}, `gpiohil drive: "--mode": flags go before the lines`},
		{[]string{"drive", "--consumer", strings.Repeat("c", 40), "L=1"}, "the kernel keeps at most 31"},
		{[]string{"drive", "--bogus", "L=1"}, "flag provided but not defined: -bogus"},
	} {
		var stdout, stderr bytes.Buffer
		code := mainImpl(context.Background(), tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("gpiohil %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestDriveHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := mainImpl(context.Background(), []string{"drive", "-h"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "usage: gpiohil drive [flags] LINE[=VALUE]...") || !strings.Contains(stderr.String(), "-mode") {
		t.Errorf("exit %d, stderr %q; want 0 and the flags", code, stderr.String())
	}
}

// A runtime error (here a chip that exists nowhere) is exit status 1, whatever chips the host has.
func TestDriveMissingChipIsExit1(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := mainImpl(context.Background(), []string{"drive", "--chip", "gpiohil-no-such-chip", "0=1"}, &stdout, &stderr)
	if want := `gpiohil: drive: no GPIO chip "gpiohil-no-such-chip"`; code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), want)
	}
}
