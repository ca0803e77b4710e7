package launch

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Labels the specs carry, for messages about a label filter.
const labelsHelp = "labels: persistence, cleanup, ownership, wiring, tool:NAME, action:NAME, ending:NAME"

// List returns the full names of the specs a run of cfg would run on each of its lanes (every
// lane runs the same specs), without booting anything: the suites binary walks its spec tree
// on this host (Ginkgo's dry run). A label filter with a syntax error, or one that selects
// nothing, is an *InputError naming it.
func List(ctx context.Context, cfg Config) ([]string, error) {
	cfg.Bench = PickBench(cfg.Bench)
	job, err := prepare(&cfg)
	if err != nil {
		return nil, err
	}
	specs, err := listSpecs(ctx, job, cfg.Bench.Kind(), cfg.LabelFilter)
	if err == nil && specs == nil {
		err = fmt.Errorf("%s gave no list of its specs: is it gpiohil's suites binary?", job.Suites)
	}
	return specs, err
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// listSpecs walks the spec tree with a suites binary that runs on this host (the same tree the
// lanes' binaries build: it depends on the profiles and the rig, not on the machine). It returns
// nil, and no error, when the binary gives no list (it is not gpiohil's suites): then nothing
// is known of the specs before the lanes run.
func listSpecs(ctx context.Context, job Job, kind vocab.BenchKind, filter string) ([]string, error) {
	bin := job.Suites
	if bin == "" || !native(bin) {
		var err error
		if bin, err = FindSuites(job.Self); err != nil {
			return nil, err
		}
	}
	run := job.Run
	run.Bench, run.JUnit, run.Shard = kind, "", runenv.All
	args := []string{"-test.run=^TestSuites$", "-ginkgo.dry-run", "-ginkgo.no-color"}
	if filter != "" {
		args = append(args, "-ginkgo.label-filter="+filter)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(runenv.Without(os.Environ()), run.Environ()...)
	out, err := cmd.CombinedOutput()
	var names []string
	listed := false // the binary wrote progress lines: it is gpiohil's suites
	for _, line := range strings.Split(string(out), "\n") {
		if _, p, ok := junit.ParseProgress(line); ok {
			listed = true
			if p.Case != nil {
				names = append(names, p.Case.Name)
			}
		}
	}
	text := ansi.ReplaceAllString(string(out), "")
	if i := strings.Index(text, "Ginkgo detected configuration issues:"); i >= 0 {
		issue := text[i+len("Ginkgo detected configuration issues:"):]
		if j := strings.Index(issue, "Learn more at"); j >= 0 {
			issue = issue[:j]
		}
		return nil, inputf("--label-filter %q: %s (%s)", filter, strings.Join(strings.Fields(issue), " "), labelsHelp)
	}
	var ee *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &ee):
		return nil, err
	case !listed:
		return nil, nil
	case len(names) == 0 && filter != "":
		return nil, inputf("--label-filter %q selects no spec (%s)", filter, labelsHelp)
	case len(names) == 0:
		return nil, errors.New("the suites have no spec to run: " + lastLines(out, 5))
	}
	return names, nil
}

// native reports whether bin is a program for this machine.
func native(bin string) bool {
	f, err := elf.Open(bin)
	if err != nil {
		return false
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}[runtime.GOARCH]
	return f.Machine == want
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(bytes.TrimSpace(b))), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
