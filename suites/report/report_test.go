package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

func file(t *testing.T, props []junit.Property, cases ...junit.Case) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "r.xml")
	if err := junit.WriteFile(p, junit.Suites{Suites: []junit.Suite{{Name: "gpiohil suites", Properties: props, Cases: cases}}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func result(r junit.Result) string {
	b, _ := json.Marshal(r)
	return junit.ResultEntry + ": " + string(b)
}

func TestMatrix(t *testing.T) {
	row := junit.Result{Suite: "persistence", Tool: "libgpiod-v1", Scenario: "set-output high, bias pull-up, ended by exit"}
	met, notMet, skipped := row, row, junit.Result{Suite: "persistence", Tool: "rpi-gpio", Scenario: "set-output high", Verdict: vocab.Skipped}
	met.Observed, met.Verdict = "input high pulled pull-up", vocab.Met
	notMet.Observed, notMet.Verdict = "input", vocab.NotMet
	sim := file(t, []junit.Property{{Name: "bench", Value: "gpio-sim"}, {Name: "driver", Value: "gpio-sim"}, {Name: "kernel", Value: "6.12"}, {Name: "tool:libgpiod-v1", Value: "v1.6.3"}, {Name: "tool:rpi-gpio", Value: "not run: profile rpi-gpio is for benches rpi, not gpio-sim"}},
		junit.Case{Name: "a", SystemOut: result(met)},
		junit.Case{Name: "b", Skipped: &junit.Message{Message: "not installed"}, SystemOut: result(skipped)},
		junit.Case{Name: "cleanup libgpiod-v1 touches only the lines it set up"})
	pi := file(t, []junit.Property{{Name: "bench", Value: "vm-rpi3"}, {Name: "board", Value: "Raspberry Pi 3, emulated, persist on"}, {Name: "tool:libgpiod-v1", Value: "not installed: gpioset not found"}},
		junit.Case{Name: "a", Failure: &junit.Message{Message: "direction"}, SystemOut: result(notMet)},
		junit.Case{Name: "b", Skipped: &junit.Message{Message: "not installed"}, SystemOut: result(skipped)},
		junit.Case{Name: "cleanup libgpiod-v1 touches only the lines it set up", Failure: &junit.Message{Message: "changed"}})
	m, err := FromFiles([]string{sim, pi})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	m.Markdown(&md)
	for _, want := range []string{
		"| tool | action | exits by itself | SIGINT | SIGTERM | SIGKILL | parent dies |",
		"## <a id=\"platform-1\"></a>gpio-sim",
		"| libgpiod-v1 | set-output | ✅ input high pulled pull-up |  |  |  |  |",
		"## <a id=\"platform-2\"></a>Raspberry Pi 3, emulated, persist on",
		"| libgpiod-v1 | set-output | ❌ input |  |  |  |  |",
		"- **libgpiod-v1** (v1.6.3) on [gpio-sim](#platform-1): Set an output and exit: input high pulled pull-up.",
		"(1 spec did not meet the expectation: see the rows)",
		"- **rpi-gpio** (made for benches rpi only).",
		"| cleanup libgpiod-v1 touches only the lines it set up | passed | failed |",
		"not installed: libgpiod-v1",
		"for other benches: rpi-gpio",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	var html bytes.Buffer
	if err := m.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<td class="met"`, `<td class="notmet"`, "<th>Raspberry Pi 3, emulated, persist on</th>", `<td class="failed">failed</td>`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html.String(), "rpi-gpio</td>") || strings.Contains(md.String(), "| rpi-gpio |") {
		t.Error("a tool skipped everywhere should not have rows")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := FromFiles([]string{filepath.Join(t.TempDir(), "missing.xml")}); err == nil {
		t.Error("a missing file should be an error")
	}
}

func TestChecksAreSortedByName(t *testing.T) {
	// Shards of one run, or runs with different seeds, report checks in different orders; the
	// matrix must not change with it.
	f := file(t, []junit.Property{{Name: "bench", Value: "gpio-sim"}},
		junit.Case{Name: "ownership x holds the line"}, junit.Case{Name: "cleanup x is harmless when run twice"},
		junit.Case{Name: "cleanup a leaves the line free"})
	m, err := FromFiles([]string{f})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Checks {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " | "); got != "cleanup a leaves the line free | cleanup x is harmless when run twice | ownership x holds the line" {
		t.Errorf("checks in order %q", got)
	}
}

// A row whose only spec could not run says so in the answer, instead of an empty state.
func TestAnswerOfASpecThatCouldNotRun(t *testing.T) {
	ran := junit.Result{Suite: "persistence", Tool: "gpiozero", Scenario: "set-output high, bias disabled, ended by exit",
		Observed: "input", Verdict: vocab.Met, Outcome: vocab.UnmanagedInputNoPull}
	broke := junit.Result{Suite: "cleanup", Tool: "gpiozero", Scenario: "cleanup high, bias disabled, ended by exit", Verdict: vocab.Infrastructure}
	pi := file(t, []junit.Property{{Name: "bench", Value: "vm-rpi3"}, {Name: "board", Value: "Raspberry Pi 3, emulated, persist off"}},
		junit.Case{Name: "a", SystemOut: result(ran)},
		junit.Case{Name: "b", Error: &junit.Message{Message: "infrastructure: the probe timed out"}, SystemOut: result(broke)})
	m, err := FromFiles([]string{pi})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	m.Markdown(&md)
	if want := "Set an output, clean up and exit: not measured (the spec could not run: see the rows)"; !strings.Contains(md.String(), want) {
		t.Errorf("Markdown lacks %q:\n%s", want, md.String())
	}
}

// The platforms of one answer read as a list: the first in full, the others without the
// leading words they share with the one before and without the words all of them have.
func TestPlatformNamesReadAsAList(t *testing.T) {
	var m Matrix
	var a Answer
	for i, board := range []string{"Raspberry Pi 3", "Raspberry Pi 4"} {
		for j, rel := range []string{"Debian bookworm", "Debian trixie"} {
			for k, persist := range []string{"persist off", "persist on"} {
				m.Columns = append(m.Columns, Column{Title: strings.Join([]string{board, "emulated", "mainline driver", rel, persist}, ", ")})
				if i+j+k > 0 {
					a.Also = append(a.Also, len(m.Columns)-1)
				}
			}
		}
	}
	got := strings.Join(m.PlatformNames(a), "; ")
	want := "Raspberry Pi 3, emulated, mainline driver, Debian bookworm, persist off; persist on; Debian trixie, persist off; persist on; " +
		"Raspberry Pi 4, Debian bookworm, persist off; persist on; Debian trixie, persist off; persist on"
	if got != want {
		t.Errorf("PlatformNames:\n got %s\nwant %s", got, want)
	}
}

// A tool whose answer is the same, word for word, on several platforms gets one answer naming
// them all, each after the first without the words it shares with the one before; one that
// differs gets its own.
func TestAnswersMergeAcrossPlatforms(t *testing.T) {
	out := junit.Result{Suite: "persistence", Tool: "rpi-gpio", Scenario: "set-output high, bias disabled, ended by exit",
		Observed: "output", Verdict: vocab.Met, Outcome: vocab.UnmanagedOutput}
	rel := junit.Result{Suite: "persistence", Tool: "libgpiod-v1", Scenario: "set-output high, bias disabled, ended by exit",
		Verdict: vocab.Met, Outcome: vocab.ReleasedOutput}
	relOff, relOn := rel, rel
	relOff.Observed, relOn.Observed = "input", "output"
	var files []string
	for _, c := range []struct {
		board string
		lib   junit.Result
	}{{"Raspberry Pi 3, emulated, Debian bookworm, persist off", relOff}, {"Raspberry Pi 3, emulated, Debian bookworm, persist on", relOn}} {
		files = append(files, file(t, []junit.Property{{Name: "bench", Value: "vm-rpi3"}, {Name: "board", Value: c.board}, {Name: "tool:rpi-gpio", Value: "RPi.GPIO 0.7.1a4"}},
			junit.Case{Name: "a", SystemOut: result(out)}, junit.Case{Name: "b", SystemOut: result(c.lib)}))
	}
	m, err := FromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	m.WriteAnswers(&md, nil, true)
	for _, want := range []string{
		"- **rpi-gpio** (RPi.GPIO 0.7.1a4) on [Raspberry Pi 3, emulated, Debian bookworm, persist off](#platform-1); [persist on](#platform-2): Set an output and exit: left as set",
		"- **libgpiod-v1** on [Raspberry Pi 3, emulated, Debian bookworm, persist off](#platform-1): Set an output and exit: released as an output → input.",
		"- **libgpiod-v1** on [Raspberry Pi 3, emulated, Debian bookworm, persist on](#platform-2): Set an output and exit: released as an output → output.",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("answers lack %q:\n%s", want, md.String())
		}
	}
	if n := strings.Count(md.String(), "**rpi-gpio**"); n != 1 {
		t.Errorf("rpi-gpio has %d answers; want 1:\n%s", n, md.String())
	}
	var html bytes.Buffer
	if err := m.HTML(&html); err != nil {
		t.Fatal(err)
	}
	if want := `<a href="#platform-1">Raspberry Pi 3, emulated, Debian bookworm, persist off</a>; <a href="#platform-2">persist on</a>`; !strings.Contains(html.String(), want) {
		t.Errorf("HTML lacks %q", want)
	}
}

// What a pin is, in words: the emulated Pi's register witness sees an input's pull but not
// what it drives, and the words say the pull.
func TestPhrase(t *testing.T) {
	for _, tc := range []struct {
		f    observe.Facts
		want string
	}{
		{observe.Facts{Direction: vocab.Input, Drive: vocab.Pulled, Pull: vocab.PullDown}, "input pulled down"},
		{observe.Facts{Direction: vocab.Input, Drive: vocab.Floating, Pull: vocab.PullNone}, "input floating"},
		{observe.Facts{Direction: vocab.Input, Drive: vocab.DriveUnknown, Pull: vocab.PullNone}, "input, no pull"},
		{observe.Facts{Direction: vocab.Input, Drive: vocab.DriveUnknown, Pull: vocab.PullUp}, "input with a pull-up"},
		{observe.Facts{Direction: vocab.Input, Drive: vocab.DriveUnknown, Pull: vocab.PullUnknown}, "input"},
		{observe.Facts{Direction: vocab.Output, Level: vocab.High, Drive: vocab.Driven}, "output high"},
	} {
		if got := Phrase(tc.f); got != tc.want {
			t.Errorf("Phrase(%+v) = %q; want %q", tc.f, got, tc.want)
		}
	}
}

// A tool no platform measured is listed with what its expectations predict, marked as such, in
// the reports; on a terminal it takes one line that names it.
func TestAnswersOfToolsNotMeasured(t *testing.T) {
	met := junit.Result{Suite: "persistence", Tool: "libgpiod-v1", Scenario: "set-output high, bias pull-up, ended by exit",
		Observed: "input", Verdict: vocab.Met, Outcome: vocab.ReleasedOutput}
	sim := file(t, []junit.Property{{Name: "bench", Value: "gpio-sim"}, {Name: "driver", Value: "gpio-sim"},
		{Name: "tool:rpi-gpio", Value: "not run: profile rpi-gpio is for benches rpi, vm-rpi3, not gpio-sim"}},
		junit.Case{Name: "a", SystemOut: result(met)})
	m, err := FromFiles([]string{sim})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := expect.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var md, term bytes.Buffer
	m.WriteAnswers(&md, rules, true)
	m.WriteAnswers(&term, rules, false)
	for _, want := range []string{"Not measured here, *predicted*:", "- **rpi-gpio** (", "*Predicted* by expectations.yaml: "} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown answers lack %q:\n%s", want, md.String())
		}
	}
	if want := "\nNot measured here: rpi-gpio (what their expectations predict is in the Markdown and HTML reports).\n"; !strings.Contains(term.String(), want) || strings.Contains(term.String(), "*Predicted*") {
		t.Errorf("terminal answers: want the one line %q and no predictions:\n%s", want, term.String())
	}
	// In the page, one short line each (the answers must fit the first screen); the prediction
	// and the whole reason behind it.
	var page bytes.Buffer
	if err := m.HTMLWith(&page, rules); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<details><summary><span class="tool">rpi-gpio</span> <small>(made for benches rpi, vm-rpi3 only)</small></summary>`, "Predicted by expectations.yaml: "} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// What a platform cannot see is said once per platform; where the register witness gives an
// output its level, what remains unseen is an input's level and drive.
func TestCantSeeWithTheRegisterWitness(t *testing.T) {
	c := Column{Props: map[string]string{"sees": "direction,pull,owner,released-direction,released-bias"}}
	if got := c.cantSee(); got != "level, drive" {
		t.Errorf("without the witness: %q, want level, drive", got)
	}
	c.Props["witness"] = "register witness: ..."
	if got := c.cantSee(); !strings.HasPrefix(got, "level and drive of inputs") {
		t.Errorf("with the witness: %q, want it to say inputs' level and drive", got)
	}
}
