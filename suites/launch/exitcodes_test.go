package launch_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// A run of the real gpiohil binary, as a user or CI starts it.
type gpiohilRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	start          time.Time
}

func startGpiohil(t *testing.T, args ...string) *gpiohilRun {
	t.Helper()
	return startGpiohilEnv(t, nil, args...)
}

// startGpiohilEnv is startGpiohil with env added to the environment.
func startGpiohilEnv(t *testing.T, env []string, args ...string) *gpiohilRun {
	t.Helper()
	r := &gpiohilRun{cmd: exec.Command(vmtest.Binary(t), args...)}
	r.cmd.Env = append(runenv.Without(os.Environ()), env...) // make test's own run configuration is not this run's
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.Dir = t.TempDir()
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill() })
	return r
}

// wait waits for the run to end, at most bound, and returns its exit status.
func (r *gpiohilRun) wait(t *testing.T, bound time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(bound):
		r.cmd.Process.Kill()
		t.Fatalf("gpiohil %q did not end within %v\nstdout:\n%s\nstderr:\n%s", r.cmd.Args[1:], bound, r.stdout.String(), r.stderr.String())
		return 0
	}
}

func (r *gpiohilRun) String() string {
	return "stdout:\n" + r.stdout.String() + "\nstderr:\n" + r.stderr.String()
}

// Bad input is exit 2 before anything boots, in one line that names the input.
func TestExitStatusForBadInputIs2BeforeBoot(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\ndescription: x\nrequires: [sh]\nactions:\n  set-output:\n    comand: [sh]\n"), 0o644)
	suitesBin := buildSuites(t, dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tools", bad}, "bad.yaml:6:5: unknown key \"comand\""},
		{[]string{"--label-filter", "persistence &&"}, `--label-filter "persistence &&": Syntax Error Parsing Label Filter`},
		{[]string{"--label-filter", "tool:no-such-tool"}, `--label-filter "tool:no-such-tool" selects no spec`},
		{[]string{"--bench", "mars"}, `invalid value "mars" for flag -bench: want auto, vm, gpio-sim, vm-rpi3 or rpi`},
		{[]string{"--junit", "/proc/gpiohil/x.xml"}, "--junit /proc/gpiohil/x.xml:"},
		{[]string{"--bench", "rpi"}, "bench rpi needs a rig file (--rig FILE)"},
	} {
		r := startGpiohil(t, append([]string{"run", "--bench", "vm", "--suites", suitesBin, "--junit", filepath.Join(dir, "s.xml")}, tc.args...)...)
		code := r.wait(t, 30*time.Second)
		lines := strings.Split(strings.TrimSpace(r.stderr.String()), "\n")
		if code != 2 || !strings.Contains(lines[0], tc.want) || len(lines) > 2 {
			t.Errorf("gpiohil run %q: exit %d, stderr %q; want exit 2 and one line saying %q, then at most a pointer to -h", tc.args, code, r.stderr.String(), tc.want)
		}
		if d := time.Since(r.start); d > 10*time.Second {
			t.Errorf("gpiohil run %q took %v to refuse its input: it should not boot anything", tc.args, d)
		}
	}
}

// The exit status says how a run on the VM lane ended: 1 a spec not met; 124 its own timeout.
func TestExitStatusForFindingsAndTimeouts(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	suitesBin := buildSuites(t, dir)
	rules, err := os.ReadFile("../expect/expectations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	right := "released-output:        {direction: input, drive: pull, level: pull, pull: bias-or-before, owner: free, released-direction: output, released-bias: bias}"
	wrong := "released-output:        {direction: output, drive: driven, level: value, owner: free, released-direction: output, released-bias: bias}"
	wrongFile := filepath.Join(dir, "wrong.yaml")
	os.WriteFile(wrongFile, bytes.Replace(rules, []byte(right), []byte(wrong), 1), 0o644)
	filter := "persistence && tool:gpiohil-drive && action:set-output"
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"every spec met", nil, 0},
		{"a spec not met", []string{"--no-builtin-expectations", "--expectations", wrongFile}, 1},
		{"the run's own timeout", []string{"--timeout", "2s", "--label-filter", "persistence"}, 124},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--bench", "vm", "--vms", "1", "--suites", suitesBin, "--junit", filepath.Join(t.TempDir(), "s.xml"), "--label-filter", filter}, tc.args...)
			r := startGpiohil(t, args...)
			if code := r.wait(t, 3*time.Minute); code != tc.want {
				t.Errorf("exit %d, want %d\n%s", code, tc.want, r)
			}
		})
	}
}

// An emulated Pi 4 lane whose QEMU is missing or has no raspi4b is an infrastructure fault (125)
// naming the command that fetches QEMU 10, never a skip: nothing boots.
func TestExitStatusForAPi4LaneWithoutItsQEMUIs125(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "qemu-system-aarch64")
	for _, tc := range []struct{ name, qemu string }{
		{"missing", bad},
		{"without raspi4b", "/bin/true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := startGpiohilEnv(t, []string{runenv.EnvRPi4QEMU + "=" + tc.qemu}, "run", "--bench", "vm-rpi3",
				"--lanes", "pi4-bookworm-persist-off", "--junit", filepath.Join(dir, "s.xml"), "--log", filepath.Join(dir, "log"))
			if code := r.wait(t, time.Minute); code != 125 {
				t.Errorf("exit %d, want 125\n%s", code, r)
			}
			if !strings.Contains(r.stderr.String(), "make rpi4-qemu") {
				t.Errorf("the error should name make rpi4-qemu:\n%s", r)
			}
		})
	}
}

// Ctrl-C mid-run is exit 130 with a report that Jenkins' schema accepts and that holds every
// spec: those that finished with their verdicts, the others as errors saying why.
func TestExitStatusForSIGINTIs130AndKeepsTheFinishedSpecs(t *testing.T) {
	r, report := startMidRun(t)
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130\n%s", code, r)
	}
	finished, cut := casesIn(t, report)
	if finished == 0 || cut == 0 {
		t.Errorf("report of an interrupted run: %d finished, %d cut short; want some of each\n%s", finished, cut, r)
	}
	if !strings.Contains(r.stderr.String(), "interrupted by SIGINT") {
		t.Errorf("stderr should say the run was interrupted:\n%s", r)
	}
}

// A QEMU that dies of SIGKILL is exit 125; the error says it was killed, and the other VM's
// finished specs are kept.
func TestExitStatusForAKilledQEMUIs125(t *testing.T) {
	r, report := startMidRun(t)
	qemu := childNamed(t, r.cmd.Process.Pid, "qemu-system-x86")
	syscall.Kill(qemu, syscall.SIGKILL)
	if code := r.wait(t, 60*time.Second); code != 125 {
		t.Fatalf("exit %d after QEMU was killed, want 125\n%s", code, r)
	}
	if !strings.Contains(r.stderr.String(), "killed by signal 9") {
		t.Errorf("the error should say QEMU was killed:\n%s", r)
	}
	if finished, _ := casesIn(t, report); finished == 0 {
		t.Errorf("no finished spec kept from the VM that was not killed\n%s", r)
	}
}

// startMidRun starts a full run on two VMs and returns once specs have finished in it.
func startMidRun(t *testing.T) (r *gpiohilRun, report string) {
	t.Helper()
	vmtest.Require(t)
	xmllint(t)
	dir := t.TempDir()
	report = filepath.Join(dir, "s.xml")
	r = startGpiohil(t, "run", "--bench", "vm", "--vms", "2", "--suites", buildSuites(t, dir), "--junit", report)
	waitForSpecs(t, r)
	return r, report
}

// waitForSpecs waits until specs have finished in the run: its log (the suites' stream) shows
// Ginkgo's line for ten passed specs.
func waitForSpecs(t *testing.T, r *gpiohilRun) {
	t.Helper()
	log := filepath.Join(r.cmd.Dir, "build", "gpiohil-run.log")
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(log); strings.Count(string(b), "• [") >= 10 {
			return
		}
	}
	t.Fatalf("no spec finished within 90 s\n%s", r)
}

// childNamed is the pid of the first child of parent whose name starts with name. Each thread
// of parent lists the children it started, so every thread is looked at.
func childNamed(t *testing.T, parent int, name string) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(parent) + "/task/*/children")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d: %v", parent, err)
	}
	var seen []string
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if strings.HasPrefix(strings.TrimSpace(string(comm)), name) {
				return pid
			}
			seen = append(seen, f+" "+strings.TrimSpace(string(comm)))
		}
	}
	t.Fatalf("no child process %s of %d among %q", name, parent, seen)
	return 0
}

// casesIn checks a report against Jenkins' schema and counts its finished and cut-short specs.
func casesIn(t *testing.T, report string) (finished, cut int) {
	t.Helper()
	if out, err := exec.Command("xmllint", "--noout", "--schema", "../../ci/junit/junit.xsd", report).CombinedOutput(); err != nil {
		t.Errorf("the report does not validate: %v\n%s", err, out)
	}
	doc, err := junit.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Suites[0].Cases {
		if c.Error != nil && c.Error.Type == "not-run" {
			cut++
		} else {
			finished++
		}
	}
	return finished, cut
}

func xmllint(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		vmtest.RequireLane(t, "xmllint", "xmllint not found: apt-get install libxml2-utils (ci/deps.sh does)")
	}
}
