package launch_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/launch"
)

// rehearsalRig is a Pi 3 rig with two pairs: in the emulated Pi no jumper joins them (QEMU
// does not connect pins), so both must fail the wiring check.
const rehearsalRig = `board: pi3-b
chip: pinctrl-bcm2835
pairs:
  - {name: A, line: GPIO17, partner: GPIO18}
  - {name: B, line: GPIO27, partner: GPIO22}
may-touch: [GPIO17, GPIO18, GPIO27, GPIO22]
`

// A dress rehearsal of the real-board path: the rpi bench's own code (the rig file, the chip
// found by its label, the board lock, the pin-function preflight in debugfs, the wiring check
// and its interlock) runs inside the emulated Pi, on the genuine pinctrl-bcm2835 driver. QEMU
// connects no pins, so every pair must be reported unwired, by name, as an infrastructure
// error; every spec on them refused; and, from QEMU's trace of the GPIO block, none of the
// rig's pins may ever have been made an output or had its output latch written.
func TestRigPathRehearsedInTheEmulatedPi(t *testing.T) {
	rpi3test.Require(t)
	dir := t.TempDir()
	rig := filepath.Join(dir, "rig.yaml")
	if err := os.WriteFile(rig, []byte(rehearsalRig), 0o644); err != nil {
		t.Fatal(err)
	}
	suitesBin, err := launch.FindSuitesArm64(vmtest.Binary(t)) // built here when not next to gpiohil
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	cfg := rpi3.Config{Lane: rpi3.PersistOff, OutDir: out, Init: rpi3test.Init(t), Timeout: 4 * time.Minute,
		Trace: filepath.Join(dir, "trace.log")}
	run := runenv.Run{Bench: vocab.KindRPi, Rig: cfg.Carry(rig, 0o644), Board: "emulated Pi 3, rig rehearsal",
		JUnit: rpi3.OutboxPath("suites.xml")}
	cfg.Args = []string{cfg.Carry(suitesBin, 0o755), "-ginkgo.label-filter", "wiring || (persistence && tool:gpiohil-drive && action:set-output)"}
	cfg.Env = run.Environ()
	var stdout bytes.Buffer
	cfg.Stdout, cfg.Stderr = &stdout, &stdout
	res, err := rpi3.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	if res.Code == 0 {
		t.Errorf("the suites passed on a rig whose pairs are not wired\n%s", stdout.String())
	}
	doc, err := junit.ReadFile(filepath.Join(out, "suites.xml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	jumpers, refused := 0, 0
	for _, c := range doc.Suites[0].Cases {
		switch {
		case strings.HasPrefix(c.Name, "wiring jumper "):
			jumpers++
			pair := strings.Fields(strings.TrimPrefix(c.Name, "wiring jumper "))[0]
			if c.Error == nil || c.Error.Type != "infrastructure" || !strings.Contains(c.Error.Message, "pair "+pair) {
				t.Errorf("%s: error %+v; want an infrastructure error naming pair %s", c.Name, c.Error, pair)
			} else {
				t.Logf("%s: %s", c.Name, c.Error.Message)
			}
		case strings.HasPrefix(c.Name, "persistence "):
			if c.Error == nil || c.Error.Type != "infrastructure" {
				t.Errorf("%s: error %+v, failure %+v; want it refused as an infrastructure error", c.Name, c.Error, c.Failure)
			} else {
				refused++
			}
		}
	}
	if jumpers != 2 || refused == 0 {
		t.Errorf("%d jumper rows (want 2), %d refused specs (want some)\n%s", jumpers, refused, stdout.String())
	}
	f, err := os.Open(cfg.Trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := regwitness.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, pin := range []int{17, 18, 27, 22} {
		p := w.Final[pin]
		if p.Function == regwitness.FunctionOutput || p.Latch != -1 {
			t.Errorf("GPIO%d was driven on a rig that failed its wiring check: %s", pin, p)
		}
	}
}
