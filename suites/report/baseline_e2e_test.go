package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/suites/report"
)

// gpiohilCmd runs the real gpiohil binary, as CI does, and returns its exit status and output.
func gpiohilCmd(t *testing.T, env []string, bound time.Duration, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(vmtest.Binary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stdout.String(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stdout.String(), stderr.String()
	case <-time.After(bound):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gpiohil %q did not end within %v\nstdout:\n%s\nstderr:\n%s", args, bound, stdout.String(), stderr.String())
		return 0, "", ""
	}
}

// runBound bounds the emulated Pi's two lanes for the gpiohil-drive persistence specs: about
// 30 s on two busy cores, more when the suites binary for arm64 is built first.
const runBound = 5 * time.Minute

// The emulated Pi's persist-off and persist-on lanes differ in what a released output does:
// with persist off the driver turns it back into an input, with persist on it stays an output.
// Compared as a baseline and a run, every gpiohil-drive persistence cell must be listed as
// changed, in that way and no other.
func TestBaselineShowsThePersistChangeOfRealRuns(t *testing.T) {
	rpi3test.Require(t)
	dir := t.TempDir()
	env := append(runenv.Without(os.Environ()), runenv.EnvBinArm64+"="+rpi3test.Init(t))
	t.Cleanup(rpi3test.Cleanup)
	code, stdout, stderr := gpiohilCmd(t, env, runBound, "run", "--bench", "vm-rpi3", "--lanes", "persist-off,persist-on", "--label-filter", "persistence && tool:gpiohil-drive",
		"--junit", filepath.Join(dir, "r.xml"), "--log", filepath.Join(dir, "run.log"))
	if code != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "run.log"))
		t.Fatalf("gpiohil run --bench vm-rpi3: exit %d\nstdout:\n%s\nstderr:\n%s\nlog:\n%s", code, stdout, stderr, log)
	}
	off, on := filepath.Join(dir, "r-persist-off.xml"), filepath.Join(dir, "r-persist-on.xml")
	offJSON := filepath.Join(dir, "off.json")
	if code, _, stderr := gpiohilCmd(t, env, time.Minute, "report", "--json", offJSON, off); code != 0 {
		t.Fatalf("gpiohil report --json: exit %d: %s", code, stderr)
	}
	cells := cellsOf(t, offJSON)

	for _, base := range []string{off, offJSON} {
		code, stdout, stderr := gpiohilCmd(t, env, time.Minute, "report", "--baseline", base, on)
		if code != 1 || stderr != "" {
			t.Fatalf("gpiohil report --baseline %s %s: exit %d, stderr %q; want 1 (changed)\n%s", base, on, code, stderr, stdout)
		}
		checkPersistChanges(t, stdout, cells)
	}

	// Both lanes on each side, in another order: matched by title, nothing changed.
	code, stdout, stderr = gpiohilCmd(t, env, time.Minute, "report", "--baseline", on, "--baseline", offJSON, off, on)
	if code != 0 || !strings.HasPrefix(stdout, "no change since the baseline") {
		t.Errorf("the same runs as baseline and run: exit %d, stdout %q, stderr %q; want 0 and no change", code, stdout, stderr)
	}
}

func cellsOf(t *testing.T, path string) int {
	t.Helper()
	d, err := report.ReadDocument(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cells) == 0 {
		t.Fatalf("%s has no cells: the label filter selected no spec", path)
	}
	return len(d.Cells)
}

// A released output: an input afterwards with persist off (with the pull the register witness
// saw), still an output with persist on (driving the level the witness saw).
var persistChange = regexp.MustCompile(`^Raspberry Pi 3, emulated, [^:]*persist on: gpiohil-drive (.+): was (\S+) input[^,]*, released as output(.*); now (\S+) output[^,]*, released as output(.*)$`)

// checkPersistChanges checks the changes: the lanes' titles named, then one line per cell, each
// the persist change, then the summary.
func checkPersistChanges(t *testing.T, out string, cells int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != cells+3 {
		t.Fatalf("%d lines, want the column match, %d changes, a blank line and the summary:\n%s", len(lines), cells, out)
	}
	if !regexp.MustCompile(`^.*persist on: compared with the baseline's .*persist off \(one platform on each side\)$`).MatchString(lines[0]) {
		t.Errorf("first line %q: want it to say which columns were compared", lines[0])
	}
	for _, l := range lines[1 : cells+1] {
		m := persistChange.FindStringSubmatch(l)
		if m == nil || m[2] != m[4] || m[3] != m[5] {
			t.Errorf("line %q: want a released output that was an input and now stays an output, same verdict and bias", l)
		}
	}
	want := "gpiohil-drive set-output high, bias pull-up, ended by exit, from input pull-down: was ✅ input pull-up, released as output pull-up; now ✅ output high driven, released as output pull-up"
	if !strings.Contains(out, want) {
		t.Errorf("changes lack %q:\n%s", want, out)
	}
	if sum := lines[len(lines)-1]; !strings.HasPrefix(sum, fmt.Sprintf("%d changes on 1 platform since the baseline (", cells)) {
		t.Errorf("summary %q: want %d changes on 1 platform", sum, cells)
	}
}
