package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// DefaultVMs is how many VMs the vm bench runs the suites in at once: one per host CPU, at most
// MaxVMs. Each VM emulates one CPU with one host thread, so two VMs on two cores take about
// half the time of one (docs/performance.md).
func DefaultVMs() int { return max(1, min(runtime.NumCPU(), MaxVMs)) }

// MaxVMs bounds the VMs of one run: each one boots, checks the tools and holds 256 MiB.
const MaxVMs = 4

// vmLane runs the suites on gpio-sim in gpiohil's own VM; with more than one VM, each runs its
// shard of the specs (runenv.Shard), all with the same Ginkgo seed, their output lines prefixed
// with the VM's number, and their reports are merged into the lane's.
type vmLane struct {
	vm  vm.Config
	vms int
}

func (l vmLane) Name() string               { return "vm" }
func (l vmLane) Report(junit string) string { return junit }

func (l vmLane) Run(ctx context.Context, job Job) (int, error) {
	if job.Suites == "" {
		var err error
		if job.Suites, err = FindSuites(job.Self); err != nil {
			return 0, err
		}
	}
	if l.vm.Kernel == "" {
		l.vm.Kernel = vm.DefaultKernel()
	}
	if !exists(l.vm.Kernel) {
		job.Note("no VM kernel yet; building it (about 7 minutes, once)")
		if err := buildKernel(job.Stderr); err != nil {
			return 0, err
		}
	}
	if l.vms == 1 {
		return l.runOne(ctx, job)
	}
	return l.runSharded(ctx, job)
}

// runSharded runs one VM per shard at once and merges their reports into job.JUnit.
func (l vmLane) runSharded(ctx context.Context, job Job) (int, error) {
	n := l.vms
	job.Args = append(slices.Clip(job.Args), fmt.Sprintf("-ginkgo.seed=%d", 1+time.Now().UnixNano()%1_000_000))
	parts := make([]string, n)
	defer func() { // merged into job.JUnit, or incomplete: never left beside it
		for _, p := range parts {
			os.Remove(p)
		}
	}()
	codes := make([]int, n)
	errs := make([]error, n)
	// A VM that cannot run (not a failing spec: an error booting or reporting) stops the
	// others: the merged report would lack its share anyway.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		parts[i] = strings.TrimSuffix(job.JUnit, ".xml") + fmt.Sprintf(".vm%d.xml", i+1)
		os.Remove(parts[i])
		prefix := fmt.Sprintf("[vm %d/%d] ", i+1, n)
		j := job
		j.Stdout, j.Stderr, j.JUnit = job.Stream(prefix), job.Stream(prefix), parts[i]
		j.Run.Shard = runenv.Shard{K: i + 1, N: n}
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = l.runOne(ctx, j)
			if errs[i] != nil {
				cancel()
			}
			flush(j.Stdout, j.Stderr)
		}()
	}
	wg.Wait()
	for i := range n { // the first VM that failed on its own, not one stopped because of it
		if errs[i] != nil && !errors.Is(errs[i], context.Canceled) {
			return 0, fmt.Errorf("VM %d of %d: %w", i+1, n, errs[i])
		}
	}
	code := 0
	var reports []junit.Suites
	for i := range n {
		if errs[i] != nil {
			return 0, fmt.Errorf("VM %d of %d: %w", i+1, n, errs[i])
		}
		if codes[i] != 0 && code == 0 {
			code = codes[i]
		}
		r, err := junit.ReadFile(parts[i])
		if err != nil {
			return code, fmt.Errorf("VM %d of %d ended with status %d and wrote no JUnit report (%v)", i+1, n, codes[i], err)
		}
		reports = append(reports, r)
	}
	return code, junit.WriteFile(job.JUnit, junit.Merge(reports...))
}

// flush flushes writers that keep a last partial line.
func flush(ws ...io.Writer) {
	for _, w := range ws {
		if f, ok := w.(interface{ Flush() }); ok {
			f.Flush()
		}
	}
}

// runOne runs the suites in one VM, sharing with it the directories of the report, the suites
// binary and gpiohil.
func (l vmLane) runOne(ctx context.Context, job Job) (int, error) {
	v := l.vm
	run := job.Run
	run.JUnit = job.JUnit
	v.Args = append([]string{job.Suites}, job.Args...)
	v.Env = append(runenv.Without(os.Environ()), run.Environ()...)
	v.Sim = suites.Banks
	if v.Init == "" && runenv.CurrentHost().Agent == "" {
		v.Init = vm.InitFor(job.Self)
	}
	v.Stdout, v.Stderr = job.Stdout, job.Stderr
	wd, _ := os.Getwd()
	seen := map[string]bool{wd: true}
	for _, d := range []string{filepath.Dir(job.JUnit), filepath.Dir(job.Suites), filepath.Dir(job.Self)} {
		if !seen[d] && !within(d, wd) {
			seen[d] = true
			v.Shares = append(v.Shares, vm.Share{Path: d})
		}
	}
	if v.Timeout == 0 {
		v.Timeout = 30 * time.Minute
	}
	res, err := vm.Run(ctx, v)
	return res.Code, err
}

func within(dir, parent string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// buildKernel runs `make kernel`'s script when gpiohil runs from its source tree.
func buildKernel(stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return fmt.Errorf("no VM kernel at %s and cannot build one here (%v); run make kernel in a gpiohil source tree", vm.DefaultKernel(), err)
	}
	cmd := exec.Command(filepath.Join(root, "ci", "kernel", "build.sh"))
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the VM kernel: %w", err)
	}
	return nil
}

func (l vmLane) Props() []junit.Property {
	return []junit.Property{{Name: "bench", Value: string(vocab.KindGPIOSim)}, {Name: "board", Value: string(vocab.KindGPIOSim)}}
}
