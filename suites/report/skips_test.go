package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

func writeSkips(t *testing.T, dir, body string) *ExpectedSkips {
	t.Helper()
	p := filepath.Join(dir, "skips.yaml")
	os.WriteFile(p, []byte(body), 0o644)
	e, err := LoadExpectedSkips(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func resultOut(r junit.Result) string {
	b, _ := json.Marshal(r)
	return junit.ResultEntry + ": " + string(b)
}

// lane writes one JUnit report for the gpio-sim lane with the given cases.
func lane(t *testing.T, dir string, cases ...junit.Case) string {
	t.Helper()
	p := filepath.Join(dir, "suites.xml")
	s := junit.Suites{Suites: []junit.Suite{{Name: "gpiohil suites", Properties: []junit.Property{
		{Name: "bench", Value: "gpio-sim"}, {Name: "board", Value: "gpio-sim"}, {Name: "driver", Value: "gpio-sim"},
		{Name: "tool:gpioset", Value: "v1.6.3"}, {Name: "tool:rpi-gpio", Value: "not run: is for benches rpi"},
	}, Cases: cases}}}
	if err := junit.WriteFile(p, s); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExpectedSkips(t *testing.T) {
	dir := t.TempDir()
	e := writeSkips(t, dir, "gpio-sim:\n  rpi-gpio: is for benches rpi\n")
	met := junit.Case{Name: "persistence gpioset set-output high", SystemOut: resultOut(junit.Result{Tool: "gpioset", Verdict: vocab.Met})}
	piSkip := junit.Case{Name: "persistence rpi-gpio set-output high", Skipped: &junit.Message{Message: "profile rpi-gpio is for benches rpi, not gpio-sim"},
		SystemOut: resultOut(junit.Result{Tool: "rpi-gpio", Verdict: vocab.Skipped})}
	piOther := junit.Case{Name: "cleanup rpi-gpio cleanup ended by exit touches only the lines it set up", Skipped: &junit.Message{Message: "profile rpi-gpio is for benches rpi, not gpio-sim"}}
	for _, tc := range []struct {
		name  string
		cases []junit.Case
		want  []string // parts of the problems, in order; none means no problem
	}{
		{"as expected", []junit.Case{met, piSkip, piOther}, nil},
		{"a deps-installed tool that stopped working", []junit.Case{piSkip, {Name: "persistence gpioset set-output high",
			Skipped: &junit.Message{Message: `gpioset reports version "2.1", want one matching / v1\./`}, SystemOut: resultOut(junit.Result{Tool: "gpioset", Verdict: vocab.Skipped})}},
			[]string{`gpio-sim: persistence gpioset set-output high: skipped, which ` + filepath.Join(dir, "skips.yaml") + ` does not expect: gpioset reports version "2.1"`,
				"gpio-sim: gpioset ran no spec with a verdict"}},
		{"a skip for another reason than the listed one", []junit.Case{met, {Name: "persistence rpi-gpio x", Skipped: &junit.Message{Message: "RPi.GPIO not found"},
			SystemOut: resultOut(junit.Result{Tool: "rpi-gpio", Verdict: vocab.Skipped})}},
			[]string{"gpio-sim: persistence rpi-gpio x: skipped, which", "rpi-gpio does not skip"}},
		{"no known expectation", []junit.Case{met, piSkip, {Name: "persistence gpioset hold", Skipped: &junit.Message{Message: "no known expectation"},
			SystemOut: resultOut(junit.Result{Tool: "gpioset", Verdict: vocab.VerdictUnknown, Note: "no known expectation: rules.yaml does not say"})}},
			[]string{"gpio-sim: persistence gpioset hold: no known expectation: no known expectation: rules.yaml does not say"}},
		{"a listed skip that no longer happens", []junit.Case{met, {Name: "persistence rpi-gpio set-output high", SystemOut: resultOut(junit.Result{Tool: "rpi-gpio", Verdict: vocab.Met})}},
			[]string{"gpio-sim: rpi-gpio does not skip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := e.Check([]string{lane(t, t.TempDir(), tc.cases...)})
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("problems %q; want %d", problems, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %d %q; want it to contain %q", i, problems[i], w)
				}
			}
		})
	}
	other := writeSkips(t, t.TempDir(), "vm-rpi3:\n  rpi-gpio: x\n")
	problems, _ := other.Check([]string{lane(t, t.TempDir(), met)})
	if len(problems) != 1 || !strings.Contains(problems[0], `lane "gpio-sim" is not in`) {
		t.Errorf("an unlisted lane: %q", problems)
	}
}

// The committed list reads.
func TestCommittedExpectedSkipsLoad(t *testing.T) {
	e, err := LoadExpectedSkips("../../ci/expected-skips.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, lane := range []string{"gpio-sim", "Raspberry Pi 3, emulated, mainline driver, persist off", "Raspberry Pi 3, emulated, mainline driver, persist on"} {
		if len(e.Lanes[lane]) == 0 {
			t.Errorf("lane %q has no expected skips", lane)
		}
	}
}
