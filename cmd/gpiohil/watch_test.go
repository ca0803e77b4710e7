package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestWatchHelp(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := watchCmd(context.Background(), []string{"-h"}, &bytes.Buffer{}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("gpiohil watch -h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{watchUsage, "-for duration", "-rig file", "never requests the lines it watches"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
}

// Bad input is a usage error (exit 2) naming what is wrong, before any chip is opened.
func TestWatchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "gpiohil watch: no line to observe: name at least one; usage: " + watchUsage},
		{[]string{"--for", "-1s", "GPIO17"}, "--for -1s: want a positive duration"},
		{[]string{"--for", "soon", "GPIO17"}, `invalid value "soon" for flag -for`},
		{[]string{"--rig", "no-such-rig.yaml", "GPIO17"}, "no-such-rig.yaml"},
	} {
		var ue usageError
		_, err := watchCmd(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gpiohil watch %q: %v; want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}
