package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWiring(t *testing.T) {
	dir := t.TempDir()
	rigFile := filepath.Join(dir, "lab.yaml")
	os.WriteFile(rigFile, []byte("board: pi5\npairs:\n  - {line: GPIO22, partner: GPIO23, resistor: 1k}\nmay-touch: [GPIO22, GPIO23]\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("board: pi5\npairs:\n  - {line: GPIO22, partner: GPIO99}\nmay-touch: [GPIO22]\n"), 0o644)
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"wiring"}, 0, "GPIO17 11 [A] [a] 12 GPIO18", ""},
		{[]string{"wiring", "--svg"}, 0, `<svg xmlns="http://www.w3.org/2000/svg"`, ""},
		{[]string{"wiring", "--rig", rigFile}, 0, "GPIO22 15 [A] [a] 16 GPIO23", ""},
		{[]string{"wiring", "--rig", rigFile}, 0, "wire with a 1kΩ resistor in series, pin 15 to pin 16", ""},
		{[]string{"wiring", "--board", "pi5"}, 0, "built-in plan, board pi5", ""},
		{[]string{"wiring", "--yaml", "--board", "pi5"}, 0, "board: pi5\nchip: pinctrl-rp1\npairs:\n  - {name: A, line: GPIO17, partner: GPIO18}", ""},
		{[]string{"wiring", "--rig", bad}, 1, "", "bad.yaml:3:29: partner \"GPIO99\" is not a line of the 40-pin header"},
		{[]string{"wiring", "--yaml"}, exitUsage, "", "--yaml needs --board"},
		{[]string{"wiring", "--board", "pi9"}, exitUsage, "", `board "pi9": want one of`},
		{[]string{"wiring", "extra"}, exitUsage, "", `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		code := mainImpl(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.errs) {
			t.Errorf("gpiohil %q: exit %d, stdout %.200q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.errs)
		}
	}
}
