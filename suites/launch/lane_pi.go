package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// piLane runs the arm64 suites in the emulated Raspberry Pi 3 or 4 with one setting of
// persist_gpio_outputs and one userland. Everything the suites need travels in its initramfs (rpi3.Config.Carry);
// their report comes back through the guest's outbox.
type piLane struct {
	lane    rpi3.Lane
	timeout time.Duration
}

func (l piLane) Name() string { return "vm-rpi3 " + l.lane.Name }

// Report is the run's path with the lane's name added: suites-persist-off.xml.
func (l piLane) Report(junit string) string {
	return junit[:len(junit)-len(filepath.Ext(junit))] + "-" + l.lane.Name + ".xml"
}

func (l piLane) Run(ctx context.Context, job Job) (int, error) {
	if why := rpi3.Missing(l.lane); why != "" {
		return 0, fmt.Errorf("the emulated Pi cannot run here: %s", why)
	}
	bin := job.Suites
	if bin == "" {
		var err error
		if bin, err = FindSuitesArm64(job.Self); err != nil {
			return 0, err
		}
	}
	out, err := tmpdir.Make(tmpdir.PiLane)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(out)
	// Every board runs with the register witness's trace (package regwitness): on the Pi 3 it
	// is the only witness of the pulls; the Pi 4's kernel reads its pulls back itself, and the
	// trace is checked against it.
	cfg := rpi3.Config{Lane: l.lane, OutDir: out, Stdout: job.Stdout, Stderr: job.Stderr, Timeout: l.timeout,
		Trace: filepath.Join(out, "gpio-trace.log")}
	// The guest's run configuration: the same run, with the guest's paths; the lane's bench,
	// board and binary come from rpi3 itself (rpi3.GuestEnv).
	run := job.Run
	run.Bin, run.Rig = "", ""
	run.Board = l.lane.Title()
	run.JUnit = rpi3.OutboxPath("suites.xml")
	run.Profiles = nil
	for _, p := range job.Run.Profiles {
		if profile.IsFile(p) {
			p = cfg.Carry(p, 0o644)
		}
		run.Profiles = append(run.Profiles, p)
	}
	run.Expectations = nil
	for _, f := range job.Run.Expectations {
		run.Expectations = append(run.Expectations, cfg.Carry(f, 0o644))
	}
	cfg.Args = append([]string{cfg.Carry(bin, 0o755)}, job.Args...)
	cfg.Env = run.Environ()
	res, err := rpi3.Run(ctx, cfg)
	if err != nil {
		return 0, err
	}
	report, err := junit.ReadFile(filepath.Join(out, "suites.xml"))
	if err != nil {
		return 0, fmt.Errorf("the suites ended with status %d and sent no JUnit report (%v)", res.Code, err)
	}
	// The register witness judges the specs again with the pulls the guest could not see (the
	// Pi 3), or is checked against the pulls it saw (the Pi 4). If it cannot be read, or the two
	// disagree, the lane is an infrastructure error.
	werr := l.witness(&report, cfg.Trace, job)
	if err := junit.WriteFile(job.JUnit, report); err != nil {
		return 0, err
	}
	return res.Code, werr
}

// witness applies the register witness of the run's trace to its report (witness.go).
func (l piLane) witness(report *junit.Suites, trace string, job Job) error {
	w, err := readWitness(trace)
	if err != nil {
		return err
	}
	profiles, err := profile.Resolve(job.Run.Profiles)
	if err != nil {
		return err
	}
	rules, err := suites.Rules(job.Run, profiles)
	if err != nil {
		return err
	}
	got := witness(report, w, rules)
	for _, line := range got.NotMet {
		if job.Note != nil {
			job.Note("not met, by the register witness: %s", line)
		}
	}
	if len(got.Disagree) > 0 {
		return fmt.Errorf("the register witness and the kernel disagree on the pull of %d observations (%d agree): %s",
			len(got.Disagree), got.Agreed, strings.Join(got.Disagree, "; "))
	}
	return nil
}

func (l piLane) Props() []junit.Property {
	return []junit.Property{{Name: "bench", Value: string(vocab.KindVMRPi3)}, {Name: "board", Value: l.lane.Title()},
		{Name: "persist_gpio_outputs", Value: string(l.lane.ParamValue())}}
}
