package rpi3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vocab"
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

func TestCarryGivesEachFileItsOwnGuestPath(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	p1, p2, p3 := filepath.Join(a, "profile.yaml"), filepath.Join(b, "profile.yaml"), filepath.Join(a, "suites.test")
	cfg := rpi3.Config{Files: []initramfs.Entry{{Path: "/carry/suites.test", Mode: 0o644, Data: []byte("the caller's own")}}}
	got := []string{cfg.Carry(p1, 0o644), cfg.Carry(p2, 0o644), cfg.Carry(p3, 0o755), cfg.Carry(p1, 0o644)}
	want := []string{"/carry/profile.yaml", "/carry/2/profile.yaml", "/carry/2/suites.test", "/carry/profile.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("guest paths %q, want %q (a file carried twice keeps its path)", got, want)
	}
	wantFiles := []initramfs.Entry{cfg.Files[0], initramfs.File(want[0], p1, 0o644),
		initramfs.File(want[1], p2, 0o644), initramfs.File(want[2], p3, 0o755)}
	if len(cfg.Files) != len(wantFiles) {
		t.Fatalf("Files = %+v, want %+v", cfg.Files, wantFiles)
	}
	for i := range wantFiles {
		if g, w := cfg.Files[i], wantFiles[i]; g.Path != w.Path || g.Source != w.Source || g.Mode != w.Mode {
			t.Errorf("Files[%d] = %+v, want %+v", i, g, w)
		}
	}
	// A relative host path is taken from the current directory, as the run reads it later.
	wd, _ := os.Getwd()
	if g := cfg.Carry("testdata/x", 0o644); g != "/carry/x" || cfg.Files[len(cfg.Files)-1].Source != filepath.Join(wd, "testdata/x") {
		t.Errorf("Carry(testdata/x) = %q from %q, want /carry/x from %s", g, cfg.Files[len(cfg.Files)-1].Source, filepath.Join(wd, "testdata/x"))
	}
}

func TestOutboxPath(t *testing.T) {
	if got := rpi3.OutboxPath("suites.xml"); got != rpi3.GuestOutbox+"/suites.xml" {
		t.Errorf("OutboxPath(suites.xml) = %q", got)
	}
}

func TestGuestEnvIsTheRunOfTheLane(t *testing.T) {
	env := rpi3.GuestEnv(rpi3.PersistOn)
	lookup := func(k string) (string, bool) {
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, k+"="); ok {
				return v, true
			}
		}
		return "", false
	}
	run, err := runenv.ReadRun(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if want := (runenv.Run{Bench: vocab.KindVMRPi3, Lane: "persist-on", Outbox: rpi3.GuestOutbox, Bin: rpi3.GuestBin, Shard: runenv.All}); !reflect.DeepEqual(run, want) {
		t.Errorf("the guest's run is %+v, want %+v", run, want)
	}
	// busybox's links first, then the userland's programs (lanes with a Debian userland).
	if p, _ := lookup("PATH"); p != "/bin:/usr/bin:/sbin:/usr/sbin" {
		t.Errorf("PATH=%q, want /bin:/usr/bin:/sbin:/usr/sbin", p)
	}
}

func TestCurrentLaneOnlyInTheVM(t *testing.T) {
	t.Setenv(runenv.EnvLane, rpi3.PersistOn.Name)
	t.Setenv(runenv.EnvInVM, "")
	if _, ok := rpi3.CurrentLane(); ok {
		t.Error("CurrentLane is ok outside the VM")
	}
	t.Setenv(runenv.EnvInVM, "1")
	t.Setenv(runenv.EnvShard, "not-a-shard") // another variable's error is not the lane's
	if l, ok := rpi3.CurrentLane(); !ok || l != rpi3.PersistOn {
		t.Errorf("CurrentLane = %v, %v; want persist-on, true", l, ok)
	}
	t.Setenv(runenv.EnvLane, "persist")
	if _, ok := rpi3.CurrentLane(); ok {
		t.Error("CurrentLane is ok with an unknown lane")
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

// The emulated Pi 4 needs QEMU 9.0 or later: a missing one, or one without raspi4b (the
// host's QEMU 7.2), is named with the command that fetches QEMU 10, before anything boots.
func TestMissingPi4QEMUSaysWhatToRun(t *testing.T) {
	lane, err := rpi3.LaneByName("pi4-bookworm-persist-off")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(runenv.EnvRPi4QEMU, "")
	if why := rpi3.Missing(lane); !strings.Contains(why, "make rpi4-qemu") {
		t.Errorf("Missing(%s) with no QEMU 10 = %q, want it to name make rpi4-qemu", lane.Name, why)
	}
	_, err = rpi3.Run(context.Background(), rpi3.Config{Lane: lane, Args: []string{"true"}, QEMU: "no-such-qemu-system-aarch64"})
	if err == nil || !strings.Contains(err.Error(), "make rpi4-qemu") {
		t.Errorf("Run on %s with no QEMU: %v, want an error naming make rpi4-qemu", lane.Name, err)
	}
	old, err := exec.LookPath(rpi3.DefaultQEMU)
	if err != nil {
		t.Skipf("no %s to stand for a QEMU without raspi4b", rpi3.DefaultQEMU)
	}
	t.Setenv(runenv.EnvRPi4QEMU, old)
	why := rpi3.Missing(lane)
	if why == "" {
		t.Skipf("%s has raspi4b: it cannot stand for a QEMU without it", old)
	}
	if !strings.Contains(why, "no raspi4b machine") || !strings.Contains(why, "make rpi4-qemu") {
		t.Errorf("Missing(%s) with %s = %q, want it to say raspi4b is missing and name make rpi4-qemu", lane.Name, old, why)
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
	if files := slices.Sorted(slices.Values(res.Files)); !slices.Equal(files, []string{"big", "junit/report.xml"}) {
		t.Errorf("Files = %q, want big and junit/report.xml", res.Files)
	}
	if res.Accel != "tcg" {
		t.Errorf("Accel = %q, want tcg", res.Accel)
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

// A lane's userland that was never built is named with the command that builds it.
func TestMissingUserlandSaysWhatToRun(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	_, err := rpi3.FindUserland("trixie")
	if err == nil || !strings.Contains(err.Error(), "make rpi3-userland") || !strings.Contains(err.Error(), "trixie") {
		t.Errorf("FindUserland of a missing userland: %v; want it to name trixie and make rpi3-userland", err)
	}
}
