package profile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// head is a valid start of a profile; the cases below add actions to it, so
// their line numbers start at 5.
const head = "name: t\ndescription: d\nrequires: [sh]\nactions:\n"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key in action", head + "  set-output:\n    command: [sh]\n    exits: true\n",
			`t.yaml:7:5: unknown key "exits" in action "set-output"; known keys: command, holds, supports-bias, ready, promises`},
		{"unknown top-level key", "name: t\ndescription: d\nrequirez: [sh]\n",
			`t.yaml:3:1: unknown key "requirez" in profile; known keys: name, description, install-hint, requires, check-command, version-command, version-match, bench-kinds, access, bias-words, actions`},
		{"unknown access", "name: t\ndescription: d\nrequires: [sh]\naccess: gpiomem\n",
			`t.yaml:4:9: unknown access "gpiomem"; want one of: kernel, registers`},
		{"unknown key in promises", head + "  set-output:\n    command: [sh]\n    promises:\n      after-exitt: keeps\n",
			`t.yaml:8:7: unknown key "after-exitt" in promises of action "set-output"; known keys: after-exit, after-signal, after-kill, source`},
		{"string for bool", head + "  set-output:\n    command: [sh]\n    holds: \"yes\"\n",
			`t.yaml:7:12: holds in action "set-output" must be true or false, got "yes"`},
		{"string for list", head + "  set-output:\n    command: gpioset\n",
			`t.yaml:6:14: command of action "set-output" must be a list of strings, got "gpioset"`},
		{"number in argv", head + "  set-output:\n    command: [sleep, 1]\n",
			`t.yaml:6:22: element 2 of command of action "set-output" must be a string, got the number 1; quote it`},
		{"mapping for string", "name: {a: b}\n",
			`t.yaml:1:7: name must be a string, got a mapping`},
		{"null action", head + "  set-output:\n",
			`t.yaml:5:14: action "set-output" must be a mapping, got nothing`},
		{"bad bias", head + "  set-output:\n    command: [sh]\n    supports-bias: [as-is, pullup]\n",
			`t.yaml:7:28: unknown bias "pullup" in supports-bias of action "set-output"; want one of: as-is, disabled, pull-up, pull-down`},
		{"duplicate bias", head + "  set-output:\n    command: [sh]\n    supports-bias: [as-is, as-is]\n",
			`t.yaml:7:28: duplicate bias "as-is" in supports-bias of action "set-output"`},
		{"bad promise", head + "  set-output:\n    command: [sh]\n    promises: {after-exit: kept}\n",
			`t.yaml:7:28: unknown promise "kept" for after-exit in action "set-output"; want one of: keeps, input, input-no-pull, released-undefined, unspecified`},
		{"bad action", head + "  hodl:\n    command: [sh]\n",
			`t.yaml:5:3: unknown action "hodl"; want one of: set-output, set-input, cleanup, hold, hold-cleanup, crash`},
		{"bad bench kind", "bench-kinds: [pi]\n",
			`t.yaml:1:15: unknown bench kind "pi" in bench-kinds; want one of: gpio-sim, vm-rpi3, rpi`},
		{"bad bias word key", "bias-words: {disable: off}\n",
			`t.yaml:1:14: unknown bias "disable" in bias-words; want one of: as-is, disabled, pull-up, pull-down`},
		{"missing command", head + "  set-output:\n    holds: true\n",
			`t.yaml:5:3: action "set-output" has no "command", which is required`},
		{"empty command", head + "  set-output:\n    command: []\n",
			`t.yaml:6:14: command of action "set-output" is empty; want at least a program`},
		{"missing name", "description: d\nrequires: [sh]\nactions: {set-output: {command: [sh]}}\n",
			`t.yaml:1:1: profile has no "name", which is required`},
		{"empty actions", "name: t\ndescription: d\nrequires: [sh]\nactions: {}\n",
			`t.yaml:4:10: actions is empty; want at least one of: set-output, set-input, cleanup, hold, hold-cleanup, crash`},
		{"bad name", "name: Libgpiod_v1\n",
			`t.yaml:1:7: name "Libgpiod_v1" must be lowercase letters and digits, joined by single dashes`},
		{"duplicate action", head + "  hold:\n    command: [sh]\n  hold:\n    command: [sh]\n",
			`t.yaml:7:3: duplicate action "hold" (first at line 5)`},
		{"duplicate key", "name: t\nname: u\n",
			`t.yaml:2:1: duplicate key "name" in profile (first at line 1)`},
		{"hold that does not hold", head + "  hold:\n    command: [sh]\n    holds: false\n",
			`t.yaml:7:12: action "hold" always holds the line; remove "holds: false"`},
		{"empty ready", head + "  hold:\n    command: [sh]\n    ready: \"\"\n",
			`t.yaml:7:12: ready in action "hold" is empty; remove it if the tool prints nothing`},
		{"bad template", head + "  set-output:\n    command: [sh, \"{{.Value\"]\n",
			`t.yaml:6:20: bad template in command of action "set-output": unclosed action`},
		{"unknown variable", head + "  set-output:\n    command: [sh, \"x={{.Foo}}\"]\n",
			`t.yaml:6:24: unknown variable .Foo in command of action "set-output"; known variables: Self, Chip, ChipName, ChipLabel, Line, Offset, Value, Bias, SysfsNumber`},
		{"unknown variable via $ inside with", head + "  set-output:\n    command: [sh, \"{{with .Line}}{{$.Pin}}{{end}}\"]\n",
			`t.yaml:6:37: unknown variable .Pin in command of action "set-output"`},
		{"unknown variable in a literal block", head + "  set-output:\n    command:\n      - sh\n      - -c\n      - |\n        echo one\n        echo {{.Offest}}\n",
			`t.yaml:11: unknown variable .Offest in command of action "set-output"`},
		{"template failing at run time", head + "  set-output:\n    command: [sh, \"{{.Value.Bits}}\"]\n",
			`t.yaml:6:20: bad template in command of action "set-output" (bias as-is, value 0): at <.Value.Bits>: can't evaluate field Bits in type int`},
		{"program renders empty", head + "  set-output:\n    command: [\"{{if .Value}}sh{{end}}\"]\n",
			`t.yaml:6:15: the program in command of action "set-output" (bias as-is, value 0) renders empty`},
		{"action variable in requires", "requires: [\"{{.Chip}}\"]\n",
			`t.yaml:1:15: unknown variable .Chip in requires; known variables: Self`},
		{"version-match without version-command", head + "  hold:\n    command: [sh]\nversion-match: v2\n",
			`t.yaml:7:16: version-match needs a version-command to run`},
		{"bad regexp", "version-match: \"v(2\"\n",
			`t.yaml:1:16: version-match "v(2" is not a valid regexp: error parsing regexp: missing closing ): ` + "`v(2`"},
		{"not YAML", "name: [t\n",
			`t.yaml:1: not valid YAML: did not find expected ',' or ']'`},
		{"empty file", "",
			`t.yaml:1: empty profile; want a mapping with name, description, requires and actions`},
		{"not a mapping", "- a\n",
			`t.yaml:1:1: profile must be a mapping, got a list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := profile.Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded; want error %q", tc.want)
			}
			var pe *profile.Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *profile.Error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	p, err := profile.Parse("t.yaml", []byte(head+"  hold:\n    command: [sh]\n  set-output:\n    command: [sh]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Actions[vocab.Hold].Holds || p.Actions[vocab.SetOutput].Holds {
		t.Errorf("holds: hold %v, set-output %v; want true, false",
			p.Actions[vocab.Hold].Holds, p.Actions[vocab.SetOutput].Holds)
	}
	a := p.Actions[vocab.SetOutput]
	if len(a.SupportsBias) != 1 || a.SupportsBias[0] != vocab.BiasAsIs {
		t.Errorf("supports-bias = %v; want [as-is]", a.SupportsBias)
	}
	want := profile.Promises{AfterExit: profile.Unspecified, AfterSignal: profile.Unspecified, AfterKill: profile.Unspecified}
	if a.Promises != want {
		t.Errorf("promises = %+v; want %+v", a.Promises, want)
	}
	if a.Line != 7 {
		t.Errorf("line = %d; want 7", a.Line)
	}
	if got := p.Names(); len(got) != 2 || got[0] != vocab.SetOutput || got[1] != vocab.Hold {
		t.Errorf("Names() = %v; want [set-output hold]", got)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte(head+"  set-output:\n    command: [sh, -c, \"exit {{.Value}}\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.File != path || p.Name != "t" {
		t.Errorf("File, Name = %q, %q; want %q, %q", p.File, p.Name, path, "t")
	}
	if _, err := profile.Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v; want an error matching os.ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("name: t\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2:1: ") {
		t.Errorf("Load of a bad file: %v; want an error starting with %s:2:1", err, path)
	}
}
