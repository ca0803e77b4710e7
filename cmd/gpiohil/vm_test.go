package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestVMHelpIsNotAnError(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "help"} {
		var stdout, stderr bytes.Buffer
		code, err := vmCmd(context.Background(), []string{arg}, &stdout, &stderr)
		if err != nil || code != 0 || !strings.Contains(stdout.String(), "usage: gpiohil vm run [flags] -- CMD [ARGS...]") ||
			!strings.Contains(stdout.String(), "gpiohil vm run -h") {
			t.Errorf("gpiohil vm %s: exit %d, %v, stdout %q; want the vm usage and no error", arg, code, err, stdout.String())
		}
	}
	for _, args := range [][]string{nil, {"frobnicate"}} {
		var ue usageError
		if _, err := vmCmd(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ue) ||
			!strings.Contains(err.Error(), "want 'gpiohil vm run") {
			t.Errorf("gpiohil vm %q: %v; want a usage error saying what vm takes", args, err)
		}
	}
}

func TestVMRunHelpNamesArguments(t *testing.T) {
	var stderr bytes.Buffer
	_, _, err := parseVMRun([]string{"-h"}, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("gpiohil vm run -h: %v, want flag.ErrHelp", err)
	}
	help := stderr.String()
	for _, want := range []string{"-kernel bzImage\n", "-sim LABEL=N\n", "-share DIR\n", "-dir directory\n", "-qemu binary\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "-kernel make kernel") {
		t.Errorf("help takes make kernel for the argument's name:\n%s", help)
	}
}
