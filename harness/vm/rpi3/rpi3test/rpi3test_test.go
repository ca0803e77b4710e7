package rpi3test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func TestGuestArgsDropHostFiles(t *testing.T) {
	kept, timeout := guestArgs([]string{"-test.v=true", "-test.testlogfile=/tmp/go-build1/testlog.txt",
		"-test.timeout=3m0s", "-test.run=TestX", "-test.coverprofile=/tmp/c.out", "-test.paniconexit0"})
	if want := []string{"-test.v=true", "-test.timeout=3m0s", "-test.run=TestX", "-test.paniconexit0"}; !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
	if timeout != 3*time.Minute {
		t.Errorf("timeout %v, want 3m", timeout)
	}
	if !listOnly([]string{"-test.list=.*"}) || listOnly(kept) {
		t.Error("listOnly is wrong")
	}
}

// envExpectLane tells harness/bench/emulatedpi's tests which lane's expectations to check
// against (its envExpect): a test knob, not one of gpiohil's settings.
const envExpectLane = "RPI3TEST_EXPECT_LANE"

// TestWrongExpectationFailsTheRun runs harness/bench/emulatedpi's release semantics on the
// persist-on lane with the persist-off expectations: the run must fail, naming the scenarios
// whose outcome differs, and the failure must reach the host as the exit status.
func TestWrongExpectationFailsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated Pi")
	}
	Require(t)
	bin := filepath.Join(t.TempDir(), "emulatedpi.test")
	if err := goArm64("test", "-c", "-o", bin, "github.com/gpiohil/gpiohil/harness/bench/emulatedpi"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := rpi3.Run(context.Background(), rpi3.Config{
		Lane:    rpi3.PersistOn,
		Args:    []string{"/bin/emulatedpi.test", "-test.v", "-test.run", "TestReleaseSemantics"},
		Env:     []string{envExpectLane + "=" + rpi3.PersistOff.Name},
		Files:   []initramfs.Entry{initramfs.File("/bin/emulatedpi.test", bin, 0o755)},
		Dir:     "/tmp",
		Init:    Init(t),
		Timeout: 3 * time.Minute,
		Stdout:  &out, Stderr: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code == 0 {
		t.Fatalf("the run passed with the wrong lane's expectations:\n%s", out.String())
	}
	for _, want := range []string{"--- FAIL: TestReleaseSemantics/persist-on/drive_exit,_output_high",
		"--- FAIL: TestReleaseSemantics/persist-on/drive_hold,_output_high,_SIGKILL",
		"--- FAIL: TestReleaseSemantics/persist-on/sysfs_export_output_high,_unexport",
		"--- PASS: TestReleaseSemantics/persist-on/drive_cleanup,_output_high"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
