package launch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/launch"
	"github.com/gpiohil/gpiohil/suites/report"
)

// buildSuites builds the suites test binary into dir, as make build does.
func buildSuites(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "suites.test")
	if out, err := exec.Command("go", "test", "-c", "-ldflags=-s -w", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("build the suites: %v\n%s", err, out)
	}
	return bin
}

// run runs the gpiohil-drive set-output specs in the VM with the given expectations file.
func run(t *testing.T, suitesBin, expectations string) (launch.Summary, string) {
	t.Helper()
	var out bytes.Buffer
	junitPath := filepath.Join(t.TempDir(), "suites.xml")
	sum, err := launch.Run(context.Background(), launch.Config{
		Bench:        vocab.BenchVM,
		LabelFilter:  "persistence && tool:gpiohil-drive && action:set-output",
		JUnit:        junitPath,
		Expectations: nonEmpty(expectations),
		OnlyExpect:   expectations != "",
		Suites:       suitesBin,
		Self:         vmtest.Binary(t),
		Stdout:       &out,
		Stderr:       &out,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return sum, junitPath
}

// A check that cannot fail proves nothing: the same specs pass with the built-in expectations
// and fail with an expectation that is wrong for gpio-sim (a released output keeps driving).
func TestWrongExpectationFails(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)

	sum, _ := run(t, suitesBin, "")
	if !sum.OK() || sum.Passed != 3 || sum.Failed != 0 {
		t.Fatalf("with the built-in expectations: %+v, want 3 passed", sum)
	}

	rules, err := os.ReadFile("../expect/expectations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	right := "released-output:        {direction: input, drive: pull, level: pull, pull: bias-or-before, owner: free, released-direction: output, released-bias: bias}"
	wrong := "released-output:        {direction: output, drive: driven, level: value, owner: free, released-direction: output, released-bias: bias}"
	if !bytes.Contains(rules, []byte(right)) {
		t.Fatalf("expectations.yaml changed; update this test's gpio-sim rule %q", right)
	}
	wrongFile := filepath.Join(dir, "wrong.yaml")
	os.WriteFile(wrongFile, bytes.Replace(rules, []byte(right), []byte(wrong), 1), 0o644)

	sum, junitPath := run(t, suitesBin, wrongFile)
	if sum.OK() || sum.Failed != 3 || sum.Passed != 0 {
		t.Fatalf("with a wrong expectation: %+v, want 3 failed", sum)
	}
	m, err := report.FromFiles([]string{junitPath})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	m.Markdown(&md)
	if strings.Count(md.String(), "❌ input") != 3 || !strings.Contains(md.String(), "Set an output and exit: input pulled down, where released as an output was expected. Judged against "+wrongFile+" (3 specs did not meet") {
		t.Errorf("the matrix should show 3 unmet expectations, and the answer what was seen:\n%s", md.String())
	}
	doc, _ := junit.ReadFile(junitPath)
	for _, c := range doc.Suites[0].Cases {
		if c.Failure == nil || !strings.Contains(c.Failure.Message, "direction: got input, want output") {
			t.Errorf("%s: failure %+v should say what differed", c.Name, c.Failure)
		}
	}
}

// Two VMs sharing the specs report exactly the specs one VM runs, each once, with the same
// verdicts, in one merged JUnit report.
func TestShardedRunReportsWhatOneVMDoes(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	verdicts := map[int]map[string]string{}
	for _, vms := range []int{1, 2} {
		var out bytes.Buffer
		junitPath := filepath.Join(dir, fmt.Sprintf("suites-%d.xml", vms))
		sum, err := launch.Run(context.Background(), launch.Config{
			Bench: vocab.BenchVM, VMs: vms, JUnit: junitPath, Suites: suitesBin, Self: vmtest.Binary(t),
			LabelFilter: "tool:sysfs || (persistence && tool:gpiohil-drive && action:set-output)",
			Stdout:      &out, Stderr: &out,
		})
		if err != nil || !sum.OK() {
			t.Fatalf("%d VMs: %v, %+v\n%s", vms, err, sum, out.String())
		}
		if vms == 2 && (!strings.Contains(out.String(), "[vm 1/2] ") || !strings.Contains(out.String(), "[vm 2/2] ")) {
			t.Errorf("2 VMs: output lines should say which VM they come from:\n%s", out.String())
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "suites-*.vm*.xml")); len(left) > 0 {
			t.Errorf("the shards' own reports were left behind: %v", left)
		}
		doc, err := junit.ReadFile(junitPath)
		if err != nil || len(doc.Suites) != 1 {
			t.Fatalf("%d VMs: report %+v, %v; want one suite", vms, doc, err)
		}
		verdicts[vms] = map[string]string{}
		for _, c := range doc.Suites[0].Cases {
			if _, dup := verdicts[vms][c.Name]; dup {
				t.Errorf("%d VMs: %q reported twice", vms, c.Name)
			}
			v := "passed"
			switch {
			case c.Failure != nil:
				v = "failed"
			case c.Error != nil:
				v = "error"
			case c.Skipped != nil:
				v = "skipped: " + c.Skipped.Message
			}
			verdicts[vms][c.Name] = v
		}
		if doc.Suites[0].Tests != len(doc.Suites[0].Cases) {
			t.Errorf("%d VMs: tests=%d for %d cases", vms, doc.Suites[0].Tests, len(doc.Suites[0].Cases))
		}
	}
	if len(verdicts[1]) < 5 {
		t.Fatalf("one VM ran only %d specs; the filter should select more", len(verdicts[1]))
	}
	if !maps.Equal(verdicts[1], verdicts[2]) {
		t.Errorf("one VM: %v\ntwo VMs: %v", verdicts[1], verdicts[2])
	}
}

// A VM that cannot run is an error that says which VM and why; the report it leaves says so
// too, and no shard's own report is left beside it.
func TestShardedRunReportsAFailingVM(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	var out bytes.Buffer
	_, err := launch.Run(context.Background(), launch.Config{
		Bench: vocab.BenchVM, VMs: 2, JUnit: filepath.Join(dir, "suites.xml"), Suites: "/bin/true", Self: vmtest.Binary(t),
		VM:     vm.Config{Fault: "before-root"},
		Stdout: &out, Stderr: &out,
	})
	if err == nil || !strings.Contains(err.Error(), " of 2: ") || !strings.Contains(err.Error(), "fault injected before mounting the host root") {
		t.Errorf("err = %v; want one naming the VM and the agent's failure\n%s", err, out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.vm*.xml")); len(left) > 0 {
		t.Errorf("shard reports left behind by a failed run: %v", left)
	}
	if doc, err := junit.ReadFile(filepath.Join(dir, "suites.xml")); err != nil || doc.Suites[0].Prop("bench") != "gpio-sim" {
		t.Errorf("the lane's report of a failed run: %+v, %v; want one naming its bench", doc, err)
	}
}

// Ctrl-C (a canceled context) ends every VM of a sharded run at once and leaves no QEMU behind.
func TestShardedRunStopsOnCancel(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	out := &specCounter{cancelAt: 10, cancel: cancel} // booted, in the middle of the specs
	var start time.Time
	out.at = func() { start = time.Now() }
	_, err := launch.Run(ctx, launch.Config{
		Bench: vocab.BenchVM, VMs: 2, JUnit: filepath.Join(dir, "suites.xml"), Suites: suitesBin, Self: vmtest.Binary(t),
		Console: launch.NewConsole(out, nil, true),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled\n%s", err, out.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v to stop after the cancel", d)
	}
	if ps, _ := exec.Command("pgrep", "-f", "qemu-system-x86_64.*"+dir).Output(); len(ps) > 0 {
		t.Errorf("QEMU still running after the cancel: %s", ps)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.vm*.xml")); len(left) > 0 {
		t.Errorf("shard reports left behind by a canceled run: %v", left)
	}
	// Nothing finished is lost: the report holds every spec of the run, those that did not
	// finish as errors saying the run was cut short.
	doc, err := junit.ReadFile(filepath.Join(dir, "suites.xml"))
	if err != nil {
		t.Fatalf("a canceled run wrote no report: %v", err)
	}
	cases := doc.Suites[0].Cases
	finished, cut := 0, 0
	for _, c := range cases {
		switch {
		case c.Error != nil && c.Error.Type == "not-run":
			if !strings.Contains(c.Error.Message, "cut short") {
				t.Errorf("%s: %q; want it to say the run was cut short", c.Name, c.Error.Message)
			}
			cut++
		default:
			finished++
		}
	}
	specs, err := launch.List(context.Background(), launch.Config{Bench: vocab.BenchVM, Suites: suitesBin, Self: vmtest.Binary(t), JUnit: filepath.Join(dir, "list.xml")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(specs) || finished == 0 || cut == 0 {
		t.Errorf("report of a run canceled after %d specs: %d cases (%d finished, %d cut short); want all %d specs, some of each", out.cancelAt, len(cases), finished, cut, len(specs))
	}
}

// specCounter takes the suites' stream and cancels the run once cancelAt specs have passed.
type specCounter struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	passed   int
	cancelAt int
	cancel   func()
	at       func()
}

func (s *specCounter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	s.passed += bytes.Count(p, []byte("• ["))
	if s.passed >= s.cancelAt && s.cancel != nil {
		s.at()
		s.cancel()
		s.cancel = nil
	}
	return len(p), nil
}

func (s *specCounter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Bad input is reported before anything boots, naming the file and line.
func TestBadInputBeforeBoot(t *testing.T) {
	dir := t.TempDir()
	badProfile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badProfile, []byte("name: bad\ndescription: x\nrequires: [sh]\nactions:\n  set-output:\n    comand: [sh]\n"), 0o644)
	badRules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(badRules, []byte("tools:\n  t:\n    set-output: {exit: kept}\n"), 0o644)
	conflict := filepath.Join(dir, "conflict.yaml")
	os.WriteFile(conflict, []byte("tools:\n  gpiohil-drive:\n    set-output: {exit: released-input}\n"), 0o644)
	for _, tc := range []struct {
		cfg  launch.Config
		want string
	}{
		{launch.Config{Profiles: []string{badProfile}}, "bad.yaml:6:5: unknown key \"comand\""},
		{launch.Config{Profiles: []string{"no-such-tool"}}, "no such profile"},
		{launch.Config{Expectations: []string{badRules}}, `rules.yaml:3: tool t action set-output ending exit: unknown outcome "kept"`},
		{launch.Config{Expectations: []string{conflict}}, `tool gpiohil-drive set-output ended by exit leaves the line released-input, but expectations.yaml says released-output`},
		{launch.Config{OnlyExpect: true}, "--no-builtin-expectations needs --expectations FILE"},
		{launch.Config{Bench: "mars", Suites: "/bin/true"}, `bench "mars" unknown`},
		{launch.Config{Bench: vocab.BenchVM, VMs: launch.MaxVMs + 1, Suites: "/bin/true"}, "--vms 5: at most 4"},
	} {
		tc.cfg.JUnit = filepath.Join(dir, "j.xml")
		if tc.cfg.Suites == "" {
			tc.cfg.Suites = "/bin/true"
		}
		_, err := launch.Run(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v) err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestRigBenchNeedsAValidRig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "rig.yaml")
	os.WriteFile(bad, []byte("board: pi4b\nchip: pinctrl-bcm2711\npairs:\n  - {line: GPIO17, partner: GPIO17}\n"), 0o644)
	for _, tc := range []struct{ rig, want string }{
		{"", "bench rpi needs a rig file (--rig FILE)"},
		{bad, "rig.yaml:"},
	} {
		_, err := launch.Run(context.Background(), launch.Config{Bench: vocab.BenchRPi, Rig: tc.rig, Suites: "/bin/true", JUnit: filepath.Join(dir, "j.xml")})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rig %q: err = %v, want %q", tc.rig, err, tc.want)
		}
	}
}

// cleanupProfile is a python3-libgpiod tool whose cleanup action requests the line as an
// output and then runs body before the interpreter exits.
func cleanupProfile(name, body string) string {
	return `name: ` + name + `
description: a python3-libgpiod cleanup written for a test
requires: [/usr/bin/python3]
check-command: [/usr/bin/python3, -c, "import gpiod; gpiod.Line.set_config"]
bench-kinds: [gpio-sim]
bias-words:
  as-is: "0"
  disabled: gpiod.LINE_REQ_FLAG_BIAS_DISABLE
  pull-up: gpiod.LINE_REQ_FLAG_BIAS_PULL_UP
  pull-down: gpiod.LINE_REQ_FLAG_BIAS_PULL_DOWN
actions:
  cleanup:
    command:
      - /usr/bin/python3
      - -c
      - |
        import gpiod
        chip = gpiod.Chip("{{.Chip}}", gpiod.Chip.OPEN_BY_PATH)
        line = chip.get_line({{.Offset}})
        line.request(consumer="` + name + `", type=gpiod.LINE_REQ_DIR_OUT, flags={{.Bias}}, default_val={{.Value}})
` + body + `
    supports-bias: [as-is, pull-up]
# What the cleanup promises, as this profile's own expectation.
expect:
  cleanup: {exit: released-input-no-bias}
`
}

// On gpio-sim every released line goes back to the simulated pull, so only the witness of how
// the line was released tells a real cleanup from a tool that just releases its line. A
// cleanup that promises "input, no pull" but releases the line as an output must fail its
// cleanup rows; the same tool with a real cleanup must pass them.
func TestBrokenCleanupFailsOnGPIOSim(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	fixed := filepath.Join(dir, "fixed.yaml")
	os.WriteFile(broken, []byte(cleanupProfile("py-cleanup-broken", `        line.release()
        chip.close()`)), 0o644)
	os.WriteFile(fixed, []byte(cleanupProfile("py-cleanup-fixed", `        line.set_config(gpiod.LINE_REQ_DIR_IN, gpiod.LINE_REQ_FLAG_BIAS_DISABLE, 0)
        line.release()
        chip.close()`)), 0o644)
	var out bytes.Buffer
	junitPath := filepath.Join(dir, "suites.xml")
	sum, err := launch.Run(context.Background(), launch.Config{
		Bench: vocab.BenchVM, Profiles: []string{broken, fixed}, JUnit: junitPath,
		LabelFilter: "cleanup && action:cleanup", Suites: buildSuites(t, dir), Self: vmtest.Binary(t),
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	doc, err := junit.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]vocab.Verdict{}
	for _, c := range doc.Suites[0].Cases {
		for _, r := range c.Results() {
			verdicts[r.Tool+" "+r.Scenario] = r.Verdict
			if r.Tool == "py-cleanup-broken" && (c.Failure == nil || !strings.Contains(c.Failure.Message, "released-direction: got output, want input")) {
				t.Errorf("%s %s: failure %+v; want one saying the line was released as an output", r.Tool, r.Scenario, c.Failure)
			}
		}
	}
	for _, bias := range []string{"as-is", "pull-up"} {
		scenario := "cleanup high, bias " + bias + ", ended by exit, from input pull-down"
		if v := verdicts["py-cleanup-broken "+scenario]; v != vocab.NotMet {
			t.Errorf("broken cleanup, %s: %q; want not met", scenario, v)
		}
		if v := verdicts["py-cleanup-fixed "+scenario]; v != vocab.Met {
			t.Errorf("real cleanup, %s: %q; want met", scenario, v)
		}
	}
	if sum.Failed != 2 {
		t.Errorf("%d failed; want the broken cleanup's 2 rows\n%s", sum.Failed, out.String())
	}
}

// make test holds every run to ci/expected-skips.yaml: a tool that ci/deps.sh installs but
// that stops being usable (here: a version pattern it no longer matches) skips its specs,
// and that must fail the check, naming the tool and why, not pass as grey rows.
func TestAnUnusableToolFailsTheSkipCheck(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	builtin, err := os.ReadFile("../../harness/profile/builtin/libgpiod-v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	right := []byte(`version-match: ' v1\.[56]\.'`)
	if !bytes.Contains(builtin, right) {
		t.Fatalf("libgpiod-v1.yaml changed; update this test's %s", right)
	}
	broken := filepath.Join(dir, "libgpiod-v1.yaml")
	os.WriteFile(broken, bytes.Replace(builtin, right, []byte(`version-match: ' v9\.'`), 1), 0o644)
	var out bytes.Buffer
	junitPath := filepath.Join(dir, "suites.xml")
	sum, err := launch.Run(context.Background(), launch.Config{
		Bench: vocab.BenchVM, Profiles: []string{broken}, JUnit: junitPath, VMs: 1,
		LabelFilter: "persistence && action:set-output", Suites: buildSuites(t, dir), Self: vmtest.Binary(t),
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if sum.Failed != 0 || sum.Skipped == 0 {
		t.Fatalf("%+v: the broken tool's specs should be skipped, not failed", sum)
	}
	skips, err := report.LoadExpectedSkips("../../ci/expected-skips.yaml")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := skips.Check([]string{junitPath})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"skipped, which ../../ci/expected-skips.yaml does not expect: gpioset reports version", "libgpiod-v1 ran no spec with a verdict"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems:\n%s\nwant one saying %q", all, want)
		}
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// A user's own tool, a shell wrapper around gpioset with its own expect: block, gets verdicts
// through --tools alone; and a deliberately wrong expectation in it fails.
func TestAUsersOwnToolGetsVerdicts(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	example, err := filepath.Abs("../../docs/examples/gpioset-wrapper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	right := []byte("set-output: {exit: released-output}")
	if !bytes.Contains(yaml, right) {
		t.Fatalf("docs/examples/gpioset-wrapper.yaml changed; update this test's %s", right)
	}
	wrong := filepath.Join(dir, "wrong.yaml")
	os.WriteFile(wrong, bytes.Replace(yaml, right, []byte("set-output: {exit: released-input-no-bias}"), 1), 0o644)
	for _, tc := range []struct {
		file           string
		passed, failed int
		answer         string // in the report's answer for the tool
	}{
		{"../../docs/examples/gpioset-wrapper.yaml", 3, 0, "Set an output and exit: released as an output → input pulled down. Judged against " + example},
		{wrong, 0, 3, "Set an output and exit: input pulled down, where made an input with the pull off, then released was expected. Judged against " + wrong},
	} {
		var out bytes.Buffer
		junitFile := filepath.Join(t.TempDir(), "s.xml")
		sum, err := launch.Run(context.Background(), launch.Config{
			Bench: vocab.BenchVM, VMs: 1, Profiles: []string{tc.file}, LabelFilter: "persistence && action:set-output",
			JUnit: junitFile, Suites: suitesBin, Self: vmtest.Binary(t), Stdout: &out,
		})
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.file, err, out.String())
		}
		if sum.Passed != tc.passed || sum.Failed != tc.failed || sum.Unknown != 0 {
			t.Errorf("%s: %+v; want %d passed, %d failed, none unknown\n%s", tc.file, sum, tc.passed, tc.failed, out.String())
		}
		m, err := report.FromFiles([]string{junitFile})
		if err != nil {
			t.Fatal(err)
		}
		var said []string
		for _, a := range m.Answers(nil) {
			if a.Tool == "gpioset-wrapper" {
				said = append(said, a.Text())
			}
		}
		if len(said) != 1 || !strings.HasPrefix(said[0], tc.answer) {
			t.Errorf("%s: the answer for gpioset-wrapper is %q; want one starting %q", tc.file, said, tc.answer)
		}
	}
}
