package launch_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/launch"
	"github.com/gpiohil/gpiohil/suites/report"
)

// Tools that put an extra change on the line, each seen by one source of the timeline only:
//   - sysfs-glitch exports the line high, then writes 0 and 1 to its value: the line ends as
//     a sysfs export always does (held high), and only gpiolib's trace events see the drop;
//   - drive-twice runs gpiohil drive's set-and-exit twice: the line drops between the two
//     only by the driver's rule at the release that line info reports (no trace event marks
//     it);
//   - sysfs-low-first makes the line an output (low, sysfs's default) and then sets it high:
//     a start-up glitch, which only the trace sees;
//   - drive-pulls-up holds the line with a pull-up it was not asked for: its handover has the
//     gap expected, but pulled high where the line's pull-down was expected.
const glitchProfiles = `name: sysfs-glitch
description: a sysfs export set high that drops to low for a moment
requires: [sh]
bench-kinds: [gpio-sim]
actions:
  set-output:
    command:
      - sh
      - -c
      - |
        set -e
        gpio=/sys/class/gpio/gpio{{.SysfsNumber}}
        [ -d "$gpio" ] || echo {{.SysfsNumber}} > /sys/class/gpio/export
        echo high > "$gpio/direction"
        echo 0 > "$gpio/value"
        echo 1 > "$gpio/value"
expect:
  set-output: {exit: exported-output}
---
name: drive-twice
description: gpiohil drive's set and exit, twice
requires: [sh, "{{.Self}}"]
bench-kinds: [gpio-sim]
actions:
  set-output:
    command: [sh, -c, '"$0" drive --chip "$1" --mode exit "$2=$3" && "$0" drive --chip "$1" --mode exit "$2=$3"', "{{.Self}}", "{{.Chip}}", "{{.Offset}}", "{{.Value}}"]
expect:
  set-output: {exit: released-output}
---
name: sysfs-low-first
description: a sysfs export made an output (low), then set high
requires: [sh]
bench-kinds: [gpio-sim]
actions:
  set-output:
    command:
      - sh
      - -c
      - |
        set -e
        gpio=/sys/class/gpio/gpio{{.SysfsNumber}}
        [ -d "$gpio" ] || echo {{.SysfsNumber}} > /sys/class/gpio/export
        echo out > "$gpio/direction"
        echo 1 > "$gpio/value"
expect:
  set-output: {exit: exported-output}
---
name: drive-said-steady
description: gpiohil drive's hold, with the wrong expectation that its release keeps the line driven
requires: ["{{.Self}}"]
bench-kinds: [gpio-sim]
actions:
  hold:
    command: ["{{.Self}}", drive, --chip, "{{.Chip}}", --mode, hold, "{{.Offset}}={{.Value}}"]
    ready: ready
expect:
  hold: {sigint: exported-output, sigterm: exported-output, sigkill: exported-output, parent-death: exported-output}
---
name: drive-pulls-up
description: gpiohil drive's hold, which turns the pull-up on though it is run with the bias as-is
requires: ["{{.Self}}"]
bench-kinds: [gpio-sim]
actions:
  hold:
    command: ["{{.Self}}", drive, --chip, "{{.Chip}}", --mode, hold, --bias, pull-up, "{{.Offset}}={{.Value}}"]
    ready: ready
expect:
  hold: {sigint: released-output, sigterm: released-output, sigkill: released-output, parent-death: released-output}
`

// Each timeline source can fail: a change injected into a pulse is caught, by gpiolib's trace
// events (sysfs-glitch, and sysfs-low-first's start) and by line info with the driver's
// release rule (drive-twice), on gpio-sim in the VM; gpiohil drive, run beside them, still
// gives one clean pulse. (The
// emulated Pi's register witness is shown to catch one in TestWitnessJudgesAHandover.)
func TestTimelineSourcesCatchAnInjectedChange(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	var files []string
	for i, doc := range strings.Split(glitchProfiles, "---\n") {
		f := filepath.Join(dir, []string{"sysfs-glitch.yaml", "drive-twice.yaml", "sysfs-low-first.yaml", "drive-said-steady.yaml", "drive-pulls-up.yaml"}[i])
		if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var out bytes.Buffer
	junitFile := filepath.Join(dir, "s.xml")
	_, err := launch.Run(context.Background(), launch.Config{
		Bench: vocab.BenchVM, VMs: 1, Profiles: append(files, "gpiohil-drive"), LabelFilter: "timeline && (action:set-output || tool:drive-said-steady || tool:drive-pulls-up || tool:gpiohil-drive)",
		JUnit: junitFile, Suites: suitesBin, Self: vmtest.Binary(t), Stdout: &out,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s, err := junit.ReadFile(junitFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		verdict vocab.Verdict
		says    string
	}{
		"sysfs-glitch pulse":       {vocab.NotMet, "2 pulses: driven high for "},
		"drive-twice pulse":        {vocab.NotMet, "2 pulses: driven high for "},
		"gpiohil-drive pulse":      {vocab.Met, "a pulse: driven high for "},
		"sysfs-low-first start-up": {vocab.NotMet, "glitch: driven low for "},
		"sysfs-low-first pulse":    {vocab.Met, "held: driven high from "},
		"gpiohil-drive start-up":   {vocab.Met, "clean: driven high at once"},
		"sysfs-glitch start-up":    {vocab.Met, "clean: driven high at once"},
		// A handover judged against a wrong expectation (the release keeps the line driven)
		// is not met; the same handover of gpiohil drive, rightly expected, is met.
		"drive-said-steady handover": {vocab.NotMet, "gap: pulled low for "},
		"gpiohil-drive handover":     {vocab.Met, "gap: pulled low for "},
		// The gap that was expected, in the wrong state.
		"drive-pulls-up handover": {vocab.NotMet, "gap: pulled high for "},
	}
	seen := 0
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			rs := c.Results()
			if len(rs) != 1 || rs[0].Suite != vocab.TimelineSuite {
				continue
			}
			r := rs[0]
			w, ok := want[r.Tool+" "+r.Shape]
			if !ok {
				continue
			}
			seen++
			if r.Verdict != w.verdict || !strings.HasPrefix(r.Observed, w.says) {
				t.Errorf("%s: %s, observed %q; want %s, %q...", r.Tool, r.Verdict, r.Observed, w.verdict, w.says)
			}
			if r.Timeline == nil || len(r.Timeline.Sources) < 3 {
				t.Errorf("%s: timeline %+v; want one from line info, gpio trace and the driver", r.Tool, r.Timeline)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d timeline specs were in the report\n%s", seen, len(want), out.String())
	}
	m, err := report.FromFiles([]string{junitFile})
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := m.Restart(0, "drive-said-steady"); !ok || w != "a gap, pulled low, where steady was expected" {
		t.Errorf("the restart answer for drive-said-steady is %q (%v); want the gap, and the steady that was expected", w, ok)
	}
}

// Recording timelines changes no end-state verdict: the persistence, cleanup and ownership
// specs of every built-in tool give the same verdicts, spec by spec, with and without them.
func TestTimelineChangesNoVerdict(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	verdicts := func(noTimeline bool) map[string]vocab.Verdict {
		var out bytes.Buffer
		junitFile := filepath.Join(t.TempDir(), "s.xml")
		_, err := launch.Run(context.Background(), launch.Config{
			Bench: vocab.BenchVM, LabelFilter: "persistence || cleanup || ownership",
			NoTimeline: noTimeline, JUnit: junitFile, Suites: suitesBin, Self: vmtest.Binary(t), Stdout: &out,
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		s, err := junit.ReadFile(junitFile)
		if err != nil {
			t.Fatal(err)
		}
		v := map[string]vocab.Verdict{}
		timelines := 0
		for _, su := range s.Suites {
			for _, c := range su.Cases {
				for _, r := range c.Results() {
					v[c.Name] = r.Verdict
					if r.Timeline != nil {
						timelines++
					}
				}
			}
		}
		if noTimeline != (timelines == 0) {
			t.Errorf("--no-timeline %v: %d specs carry a timeline", noTimeline, timelines)
		}
		return v
	}
	with, without := verdicts(false), verdicts(true)
	if len(with) < 100 {
		t.Fatalf("only %d specs ran", len(with))
	}
	for name, v := range with {
		if without[name] != v {
			t.Errorf("%s: %s with timelines, %s without", name, v, without[name])
		}
	}
	if len(with) != len(without) {
		t.Errorf("%d specs with timelines, %d without", len(with), len(without))
	}
}
