package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm"
)

func TestParseVMRun(t *testing.T) {
	var stderr bytes.Buffer
	cfg, verbose, err := parseVMRun([]string{"--sim", "a=2", "--sim", "b=GPIO17", "--timeout", "30s", "--share", "/srv:ro", "-v", "--", "ls", "-l", "/dev"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Args, " ") != "ls -l /dev" || !verbose || cfg.Timeout != 30*time.Second {
		t.Errorf("cfg = %+v, verbose %v", cfg, verbose)
	}
	if len(cfg.Sim) != 2 || cfg.Sim[0].Label != "a" || cfg.Sim[1].Lines[0] != "GPIO17" {
		t.Errorf("sim = %+v", cfg.Sim)
	}
	if len(cfg.Shares) != 1 || cfg.Shares[0] != (vm.Share{Path: "/srv", ReadOnly: true}) {
		t.Errorf("shares = %+v", cfg.Shares)
	}
	if cfg.Accel != "tcg" || cfg.Memory != vm.DefaultMemory {
		t.Errorf("defaults: accel %q memory %d", cfg.Accel, cfg.Memory)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"vm"}, "want 'gpiohil vm run"},
		{[]string{"vm", "run"}, "no command given"},
		{[]string{"vm", "run", "--timeout", "0s", "true"}, "--timeout must be positive"},
		{[]string{"vm", "run", "--memory", "16", "true"}, "--memory 16 MiB is too small"},
		{[]string{"vm", "run", "--sim", "bad", "true"}, "want LABEL=N"},
		{[]string{"vm", "run", "--sim", "a=1", "--sim", "a=2", "true"}, `label "a" given to two banks`},
		{[]string{"vm", "run", "--bogus", "true"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "--vms", "9"}, "--vms 9: want 1 to 4"},
		{[]string{"run", "--vms", "-1"}, "--vms -1: want 1 to 4"},
	} {
		var stdout, stderr bytes.Buffer
		code := mainImpl(context.Background(), tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("gpiohil %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestMissingKernelIsExit125WithAdvice(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := mainImpl(context.Background(), []string{"vm", "run", "--kernel", "/nonexistent/bzImage", "--", "true"}, &stdout, &stderr)
	if code != exitVM || !strings.Contains(stderr.String(), "build it with: make kernel") {
		t.Errorf("exit %d, stderr %q; want 125 and advice to run make kernel", code, stderr.String())
	}
}
