package rpi3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	rpi3test.Cleanup()
	os.Exit(code)
}

func TestAppendLineSelectsTheLane(t *testing.T) {
	for _, c := range []struct {
		lane rpi3.Lane
		want string
	}{
		{rpi3.PersistOff, "pinctrl_bcm2835.persist_gpio_outputs=n"},
		{rpi3.PersistOn, "pinctrl_bcm2835.persist_gpio_outputs=y"},
		{rpi3.Lane{}, "pinctrl_bcm2835.persist_gpio_outputs=n"}, // the zero lane is mainline
	} {
		line := rpi3.AppendLine(rpi3.Config{Lane: c.lane, Append: "extra=1"})
		if !strings.Contains(line, c.want) || !strings.HasSuffix(line, " extra=1") || !strings.Contains(line, "console=ttyAMA0") {
			t.Errorf("lane %q: command line %q, want %q, the console on ttyAMA0 and the extra parameter last", c.lane, line, c.want)
		}
	}
}

func TestLanes(t *testing.T) {
	for _, l := range rpi3.Lanes {
		got, err := rpi3.LaneByName(l.Name)
		if err != nil || got != l {
			t.Errorf("LaneByName(%q) = %v, %v", l.Name, got, err)
		}
	}
	if _, err := rpi3.LaneByName("persist"); err == nil {
		t.Error("LaneByName(persist) succeeded, want an error")
	}
	if rpi3.PersistOff.Title() == rpi3.PersistOn.Title() {
		t.Error("both lanes have the same title; the semantics matrix needs two columns")
	}
}

func TestMissingKernelSaysWhatToRun(t *testing.T) {
	_, err := rpi3.Run(context.Background(), rpi3.Config{Args: []string{"true"}, KernelDir: t.TempDir(), QEMU: "true"})
	if err == nil || !strings.Contains(err.Error(), "make rpi3-kernel") {
		t.Fatalf("err = %v, want one naming make rpi3-kernel", err)
	}
}

func TestMissingQEMUSaysWhatToRun(t *testing.T) {
	_, err := rpi3.Run(context.Background(), rpi3.Config{Args: []string{"true"}, QEMU: "no-such-qemu-system-aarch64"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install qemu-system-arm") {
		t.Fatalf("err = %v, want one naming the package to install", err)
	}
}

func TestRefusesAHostBinaryAsInit(t *testing.T) {
	rpi3test.Require(t)
	self, _ := os.Executable()
	_, err := rpi3.Run(context.Background(), rpi3.Config{Args: []string{"true"}, Init: self})
	if err == nil || !strings.Contains(err.Error(), "want arm64") {
		t.Fatalf("err = %v, want one saying the init is not arm64", err)
	}
}

// TestRun boots the emulated Pi once and checks everything that travels over the channel:
// output streams, a file from the outbox, the exit status, the lane's kernel parameter, and
// that the guest powered itself off through the watchdog.
func TestRun(t *testing.T) {
	rpi3test.Require(t)
	out := t.TempDir()
	var stdout, stderr, console bytes.Buffer
	big := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB: several File frames
	res, err := rpi3.Run(context.Background(), rpi3.Config{
		Lane: rpi3.PersistOn,
		Args: []string{"/bin/sh", "-c", `set -e
echo "lane $GPIOHIL_RPI3_LANE bench $GPIOHIL_BENCH"
echo "persist $(cat /sys/module/pinctrl_bcm2835/parameters/persist_gpio_outputs)"
ls /sys/kernel/debug/pinctrl/ | grep -q pinctrl-bcm2835 && echo debugfs mounted
$GPIOHIL_BIN drive -h >/dev/null 2>&1; echo "gpiohil drive -h exited $?"
echo to-stderr >&2
mkdir -p "$GPIOHIL_OUTBOX/junit"
printf '<testsuites/>' > "$GPIOHIL_OUTBOX/junit/report.xml"
cat /data/big > "$GPIOHIL_OUTBOX/big"
exit 3`},
		Files:   []initramfs.Entry{{Path: "/data/big", Mode: 0o644, Data: big}},
		OutDir:  out,
		Init:    rpi3test.Init(t),
		Timeout: 2 * time.Minute,
		Stdout:  &stdout, Stderr: &stderr, Console: &console,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot to agent %v (guest uptime %v), total %v, kernel %s", res.Boot, res.Uptime, res.Total, res.Kernel)
	if res.Code != 3 {
		t.Errorf("exit status %d, want 3; stderr:\n%s", res.Code, stderr.String())
	}
	for _, want := range []string{"lane persist-on bench vm-rpi3", "persist Y", "debugfs mounted", "gpiohil drive -h exited 0"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "to-stderr") {
		t.Errorf("stderr lacks the command's line:\n%s", stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(out, "junit", "report.xml")); err != nil || string(b) != "<testsuites/>" {
		t.Errorf("report from the outbox: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "big")); err != nil || !bytes.Equal(b, big) {
		t.Errorf("big file from the outbox: %d bytes (%v), want %d equal ones", len(b), err, len(big))
	}
	if !res.PoweredOff {
		t.Errorf("the guest did not power itself off (bcm2835_wdt); console:\n%s", console.String())
	}
	if strings.Contains(console.String(), "load module") {
		t.Errorf("the agent could not load a module; console:\n%s", console.String())
	}
}

// TestAgentFailureIsAGuestError boots once with a fault injected into the agent.
func TestAgentFailureIsAGuestError(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated Pi")
	}
	rpi3test.Require(t)
	_, err := rpi3.Run(context.Background(), rpi3.Config{Args: []string{"true"}, Init: rpi3test.Init(t), Fault: "before-root", Timeout: 2 * time.Minute})
	var ge *vm.GuestError
	if !errors.As(err, &ge) || !strings.Contains(ge.Reason, "fault injected") {
		t.Fatalf("err = %v, want a *vm.GuestError naming the injected fault", err)
	}
}
