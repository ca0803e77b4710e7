package trial_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/runner"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

func TestMain(m *testing.M) {
	runner.MaybeRunParent()
	os.Exit(vmtest.Main(m, sim.Bank{Label: "trial", Lines: []string{"t0", "t1", "t2", "t3"}}))
}

// endings of an action: by itself, or each way a holding tool can be ended.
func endings(a *profile.Action) []vocab.Ending {
	if !a.Holds {
		return []vocab.Ending{vocab.Exit}
	}
	return []vocab.Ending{vocab.SIGINT, vocab.SIGTERM, vocab.SIGKILL, vocab.ParentDeath}
}

// TestEvidenceTable runs every action of every built-in tool, ended every way it can be, with
// the biases it supports, from an input pulled down, and checks what the observer sees once the
// process is gone against gpio-sim's semantics (not against what a tool should do: that is the
// suites' job). It logs the table the suites' expectations are built from.
//
// gpio-sim's semantics: a line released by the character device returns to its simulated pull,
// so it reads as an undriven input; a pull-up or pull-down bias in the request overwrites the
// simulated pull, which stays after the release; bias disabled and as-is leave it. A line
// exported through /sys/class/gpio stays exported, and driven, after its writer is gone.
func TestEvidenceTable(t *testing.T) {
	b, err := bench.GPIOSimFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bench: %v", err)
		}
	})
	l, err := b.Line("t1")
	if err != nil {
		t.Fatal(err)
	}
	pre := bench.State{Direction: vocab.Input, Bias: vocab.BiasPullDown}
	profiles, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, p := range profiles {
		for _, name := range p.Names() {
			a := p.Actions[name]
			for _, ending := range endings(a) {
				for _, bias := range []vocab.Bias{vocab.BiasPullUp, vocab.BiasDisabled, vocab.BiasAsIs} {
					c := trial.Case{Profile: p, Action: name, Value: 1, Bias: bias, Ending: ending, Pre: pre}
					t.Run(fmt.Sprintf("%s/%s/%s/%s", p.Name, name, ending, bias), func(t *testing.T) {
						res, err := trial.Run(context.Background(), b, l, c)
						if errors.Is(err, trial.ErrSkip) {
							skipUnlessTheSetupProvides(t, p, b.Kind(), err)
						}
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() {
							if err := b.Restore(l); err != nil {
								t.Errorf("restore: %v", err)
							}
						})
						after := res.After
						table = append(table, fmt.Sprintf("%-17s %-12s %-11s %-9s -> %-27s owner %s %s (%s)",
							p.Name, name, ending, bias, after.State(), after.Owner, after.Consumer, res.Run.Status()))
						if !res.Run.Gone {
							t.Fatalf("the tool is still running: %+v", res.Run)
						}
						checkGPIOSim(t, p, c, res)
					})
				}
			}
		}
	}
	t.Logf("evidence table (gpio-sim, pre-state %s, value 1):\n%s", pre, strings.Join(table, "\n"))
}

// skipUnlessTheSetupProvides skips a trial that cannot be made here (err matches
// trial.ErrSkip), or fails it under GPIOHIL_REQUIRE_VM=1 when the reason is a tool missing that
// the project's own setup provides. Profiles for other benches, biases or endings a tool does
// not support, and tools the setup does not install (the Raspberry Pi's, or the libgpiod
// generation the distribution does not ship) are skips on every machine.
func skipUnlessTheSetupProvides(t *testing.T, p *profile.Profile, kind vocab.BenchKind, err error) {
	t.Helper()
	if trial.NotForBench(p, kind) == "" {
		if ok, _, _ := trial.Installed(p); !ok {
			if provided, how := setupProvides(p); provided {
				vmtest.RequireLane(t, "tool "+p.Name, fmt.Sprintf("%v (%s)", err, how))
			}
		}
	}
	t.Skip(err)
}

// setupProvides says whether the project's own setup makes profile p's tool runnable in the VM
// these tests run in, and how: make build builds gpiohil drive; the VM's kernel has
// CONFIG_GPIO_SYSFS and runs the tests as root; ci/deps.sh installs Debian's gpiod and
// python3-libgpiod, whose major version picks the profile they serve (1.6 on Debian 12, 2.x
// on later releases, which the v1 profiles rightly refuse).
func setupProvides(p *profile.Profile) (bool, string) {
	switch p.Name {
	case "gpiohil-drive":
		return true, "make build builds gpiohil; make test and the VM name it in $" + runenv.EnvBin
	case "sysfs":
		return true, "the VM's kernel has CONFIG_GPIO_SYSFS and runs the tests as root"
	case "libgpiod-v1":
		return debianPackageAt("gpiod", "1")
	case "libgpiod-v2":
		return debianPackageAt("gpiod", "2")
	case "python3-libgpiod":
		return debianPackageAt("python3-libgpiod", "1")
	}
	return false, ""
}

var debianVersions sync.Map // package name -> version, "" when not installed

// debianPackageAt says whether Debian package pkg, which ci/deps.sh installs, is here at major
// version major, or is missing (the setup should have installed it), and what dpkg says.
func debianPackageAt(pkg, major string) (bool, string) {
	v, ok := debianVersions.Load(pkg)
	if !ok {
		out, _ := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
		v, _ = debianVersions.LoadOrStore(pkg, strings.TrimSpace(string(out)))
	}
	version := v.(string)
	if version == "" {
		return true, fmt.Sprintf("ci/deps.sh installs Debian package %s; dpkg-query finds none here", pkg)
	}
	if _, after, found := strings.Cut(version, ":"); found { // an epoch: 1:2.1-1
		version = after
	}
	return strings.HasPrefix(version, major+"."), fmt.Sprintf("ci/deps.sh installs Debian package %s, here at version %s", pkg, version)
}

func checkGPIOSim(t *testing.T, p *profile.Profile, c trial.Case, res *trial.Result) {
	t.Helper()
	after := res.After
	if p.Name == "sysfs" {
		if c.Action == vocab.Cleanup {
			if after.Owner != vocab.Free {
				t.Errorf("after sysfs cleanup (unexport) the line is %s by %q, want free", after.Owner, after.Consumer)
			}
			return
		}
		if after.Owner != vocab.Used || after.Consumer != bench.SysfsConsumer {
			t.Errorf("after the writer is gone a sysfs export should stay: owner %s %q", after.Owner, after.Consumer)
		}
		return
	}
	if after.Owner != vocab.Free {
		t.Fatalf("%s: the line is still %s by %q after the process is gone", c, after.Owner, after.Consumer)
	}
	wantPull := vocab.PullDown // the pre-state's pull stays unless the tool set a pull bias
	if c.Bias == vocab.BiasPullUp && applied(p, c) {
		wantPull = vocab.PullUp
	}
	want := "input low pulled " + string(wantPull)
	if wantPull == vocab.PullUp {
		want = "input high pulled " + string(wantPull)
	}
	if after.State() != want {
		t.Errorf("%s:\n got %s\nwant %s (gpio-sim returns a released line to its simulated pull)\nevidence %q", c, after.State(), want, after.Evidence)
	}
}

// applied reports whether the tool's run requested the line with the bias (actions whose
// cleanup reconfigures to bias disabled still applied the pull first).
func applied(p *profile.Profile, c trial.Case) bool {
	for _, sb := range p.Actions[c.Action].SupportsBias {
		if sb == c.Bias {
			return true
		}
	}
	return false
}
