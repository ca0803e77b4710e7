package launch_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// rpiGPIOCleanup is a profile of RPi.GPIO whose cleanup action runs body after setting the pin
// up as an output, expecting what GPIO.cleanup() promises: an input with the pull off.
func rpiGPIOCleanup(name, body string) string {
	return `name: ` + name + `
description: RPi.GPIO with a cleanup of a test's own
requires: [/usr/bin/python3]
bench-kinds: [vm-rpi3]
access: registers
actions:
  cleanup:
    command:
      - /usr/bin/python3
      - -c
      - |
        import RPi.GPIO as GPIO
        GPIO.setwarnings(False)
        GPIO.setmode(GPIO.BCM)
        GPIO.setup({{.Offset}}, GPIO.OUT, initial=GPIO.HIGH)
        print("ready", flush=True)
` + body + `
    supports-bias: [disabled]
    ready: ready
expect:
  cleanup: {exit: unmanaged-input-no-pull}
`
}

// The emulated Pi 3's guest cannot see pulls (QEMU drops them), so a "cleanup" that makes the
// pin an input but leaves a pull-up on would pass on what the guest sees. The register witness
// (QEMU's trace of the GPIO block's writes, decoded on the host) sees the pull: that cleanup
// must fail, on the pull, and RPi.GPIO's own cleanup() must pass with the pull seen off.
func TestRegisterWitnessFailsACleanupThatLeavesAPullUp(t *testing.T) {
	pullEvidenceFailsACleanupThatLeavesAPullUp(t, "bookworm-persist-off")
}

// The emulated Pi 4's kernel reads its pulls back (pinconf-pins): the same cleanup that leaves
// a pull-up must fail there on what the guest sees, and the register witness, which runs there
// too, must agree with the kernel on every observation (else the lane is an error, not exit 1).
func TestPi4PullsFailACleanupThatLeavesAPullUp(t *testing.T) {
	pullEvidenceFailsACleanupThatLeavesAPullUp(t, "pi4-bookworm-persist-off")
}

func pullEvidenceFailsACleanupThatLeavesAPullUp(t *testing.T, laneName string) {
	lane, err := rpi3.LaneByName(laneName)
	if err != nil {
		t.Fatal(err)
	}
	vmtest.RequireLane(t, "emulated Pi's "+lane.Name+" lane", rpi3.Missing(lane))
	dir := t.TempDir()
	leaves := filepath.Join(dir, "leaves.yaml")
	cleans := filepath.Join(dir, "cleans.yaml")
	os.WriteFile(leaves, []byte(rpiGPIOCleanup("rpi-gpio-leaves-pull-up", `        GPIO.setup({{.Offset}}, GPIO.IN, pull_up_down=GPIO.PUD_UP)`)), 0o644)
	os.WriteFile(cleans, []byte(rpiGPIOCleanup("rpi-gpio-cleans-up", `        GPIO.cleanup()`)), 0o644)
	report := filepath.Join(dir, "r.xml")
	r := startGpiohilEnv(t, piRunEnv(t), "run", "--bench", "vm-rpi3", "--lanes", lane.Name,
		"--tools", leaves+","+cleans, "--label-filter", "cleanup && action:cleanup",
		"--junit", report, "--log", filepath.Join(dir, "run.log"))
	if code := r.wait(t, 5*time.Minute); code != 1 {
		log, _ := os.ReadFile(filepath.Join(dir, "run.log"))
		t.Fatalf("gpiohil run: exit %d; want 1 (a finding)\n%s\nlog:\n%s", code, r, log)
	}
	doc, err := junit.ReadFile(filepath.Join(dir, "r-"+lane.Name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	// Where the pull is seen: the register witness's mark (Pi 3), or the kernel's pinconf-pins,
	// checked against the witness (Pi 4).
	pi4 := lane.Board.Name == rpi3.Pi4.Name
	seen := map[string]bool{}
	for _, c := range doc.Suites[0].Cases {
		for _, res := range c.Results() {
			seen[res.Tool] = true
			o := res.Observation
			switch {
			case o == nil:
				t.Errorf("%s %s: no observation", res.Tool, res.Scenario)
				continue
			case o.Mark == 0:
				t.Errorf("%s %s: no register witness mark in the observation", res.Tool, res.Scenario)
				continue
			case pi4 && !slices.ContainsFunc(o.Evidence, func(e string) bool { return strings.Contains(e, "pinconf-pins") }):
				t.Errorf("%s %s: no pinconf-pins evidence in %q", res.Tool, res.Scenario, o.Evidence)
			case pi4 && !slices.ContainsFunc(o.Evidence, func(e string) bool {
				return strings.Contains(e, "register witness (QEMU's trace") && strings.Contains(e, "agrees on the pull")
			}):
				t.Errorf("%s %s: the register witness did not agree with pinconf-pins: %q", res.Tool, res.Scenario, o.Evidence)
			}
			switch res.Tool {
			case "rpi-gpio-leaves-pull-up":
				if res.Verdict != vocab.NotMet || c.Failure == nil || !strings.Contains(c.Failure.Message, "pull: got pull-up, want none") {
					t.Errorf("%s %s: %s, failure %+v; want not met on the pull", res.Tool, res.Scenario, res.Verdict, c.Failure)
				}
			case "rpi-gpio-cleans-up":
				if c.Failure != nil || o.Pull != vocab.PullNone || o.Direction != vocab.Input {
					t.Errorf("%s %s: %s (observed %s), failure %+v; want met, an input with the pull seen off", res.Tool, res.Scenario, res.Verdict, res.Observed, c.Failure)
				}
			}
		}
	}
	if !seen["rpi-gpio-leaves-pull-up"] || !seen["rpi-gpio-cleans-up"] {
		t.Errorf("specs ran for %v; want both tools'\n%s", seen, r)
	}
	if !pi4 && !strings.Contains(r.stdout.String()+r.stderr.String(), "register witness") {
		t.Errorf("the run's output does not say the register witness found the failure\n%s", r)
	}
}

// The ownership spec of a register-level tool checks that line info shows the line free while
// the tool drives it. A profile that says access: registers but holds the line through the
// kernel (gpioset) must fail it.
func TestRegisterOwnershipFailsForAToolThatRequestsTheLine(t *testing.T) {
	lane, err := rpi3.LaneByName("bookworm-persist-off")
	if err != nil {
		t.Fatal(err)
	}
	vmtest.RequireLane(t, "emulated Pi's "+lane.Name+" lane", rpi3.Missing(lane))
	dir := t.TempDir()
	liar := filepath.Join(dir, "liar.yaml")
	os.WriteFile(liar, []byte(`name: gpioset-says-registers
description: gpioset v1 holding a line, claiming to write the registers
requires: [gpioset]
bench-kinds: [vm-rpi3]
access: registers
actions:
  hold:
    command: [sh, -c, 'gpioset --mode=signal "$1" "$2=$3" & sleep 2; echo ready; wait', hold, "{{.Chip}}", "{{.Offset}}", "{{.Value}}"]
    ready: ready
`), 0o644)
	report := filepath.Join(dir, "r.xml")
	r := startGpiohilEnv(t, piRunEnv(t), "run", "--bench", "vm-rpi3", "--lanes", lane.Name,
		"--tools", liar, "--label-filter", "ownership", "--junit", report, "--log", filepath.Join(dir, "run.log"))
	if code := r.wait(t, 5*time.Minute); code != 1 {
		t.Fatalf("gpiohil run: exit %d; want 1 (a finding)\n%s", code, r)
	}
	doc, err := junit.ReadFile(filepath.Join(dir, "r-"+lane.Name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range doc.Suites[0].Cases {
		if strings.Contains(c.Name, "gpioset-says-registers") && c.Failure != nil && strings.Contains(c.Failure.Message, "line info while") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed ownership specs naming line info; want 1\n%s", failed, r)
	}
}

// piRunEnv is the environment of a gpiohil run on the emulated Pi from go test: the arm64
// gpiohil and both suites binaries, built here when they are not next to gpiohil (go test
// without make).
func piRunEnv(t *testing.T) []string {
	t.Helper()
	suitesHost, err := launch.FindSuites(vmtest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	suitesArm64, err := launch.FindSuitesArm64(vmtest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	return []string{runenv.EnvBinArm64 + "=" + rpi3test.Init(t), runenv.EnvSuites + "=" + suitesHost,
		runenv.EnvSuitesArm64 + "=" + suitesArm64}
}
