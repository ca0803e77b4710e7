package suites_test

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// cleanupActions are the actions that end with the tool's own cleanup, and how each ends.
var cleanupActions = []struct {
	action vocab.Action
	ending vocab.Ending
}{
	{vocab.Cleanup, vocab.Exit},
	{vocab.HoldCleanup, vocab.SIGTERM},
}

// runCleanup runs p's cleanup action on the line under test and returns the trial, skipping
// the spec when the tool cannot run here. The line is first prepared in the suites' pre-state,
// unless asLeft: then the cleanup runs on whatever the last one left.
func runCleanup(p *profile.Profile, action vocab.Action, ending vocab.Ending, asLeft bool) *trial.Result {
	requireUsable(p)
	bias := biases(p.Actions[action])[0]
	tr, err := trial.Run(context.Background(), b, line(dutName), trial.Case{Profile: p, Action: action, Value: 1, Bias: bias, Ending: ending, Pre: preDown, AsLeft: asLeft})
	if errors.Is(err, trial.ErrSkip) {
		Skip(err.Error())
	}
	if err != nil {
		infrastructure(err)
	}
	Expect(tr.Run.ExitCode).To(Equal(0), "%s %s should succeed; stderr: %s", p.Name, action, tr.Run.Stderr)
	return tr
}

// Cleanup: after the tool's cleanup the line is an input without pull (as far as the
// platform shows it), nothing else was touched, cleaning up twice is harmless, and the line is
// free for the next process.
var _ = Describe("cleanup", Label("cleanup"), func() {
	for _, p := range profiles {
		var entries []any
		for _, ca := range cleanupActions {
			entries = append(entries, scenarios(vocab.CleanupSuite, p, ca.action)...)
		}
		if len(entries) == 0 {
			continue
		}
		Describe(p.Name, Label("tool:"+p.Name), func() {
			DescribeTable("leaves the line", append([]any{check}, entries...)...)

			for _, ca := range cleanupActions {
				if p.Actions[ca.action] == nil {
					continue
				}
				Context(fmt.Sprintf("%s ended by %s", ca.action, ca.ending.Title()), Label("action:"+string(ca.action)), func() {
					BeforeEach(func() {
						dut := line(dutName)
						DeferCleanup(func() { Expect(b.Restore(dut)).To(Succeed()) })
					})

					It("touches only the lines it set up", func() {
						n := line(neighbourName)
						DeferCleanup(func() { Expect(b.Restore(n)).To(Succeed()) })
						Expect(b.Prepare(n, bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp})).To(Succeed())
						before, err := b.Observe(n)
						Expect(err).NotTo(HaveOccurred())
						runCleanup(p, ca.action, ca.ending, false)
						after, err := b.Observe(n)
						Expect(err).NotTo(HaveOccurred())
						Expect(after.State()).To(Equal(before.State()), "the neighbour %s changed", n.Name)
						Expect(after.Owner).To(Equal(before.Owner))
					})

					It("is harmless when run twice", func() {
						first := runCleanup(p, ca.action, ca.ending, false)
						// The second cleanup starts from what the first one left, not from a
						// freshly prepared line.
						second := runCleanup(p, ca.action, ca.ending, true)
						Expect(second.Before.State()).To(Equal(first.After.State()), "the second cleanup should start from what the first left")
						Expect(second.After.State()).To(Equal(first.After.State()))
						Expect(second.After.Owner).To(Equal(first.After.Owner))
					})

					It("leaves the line free for the next process", func() {
						tr := runCleanup(p, ca.action, ca.ending, false)
						if tr.After.Owner == vocab.Used && tr.After.Consumer == bench.SysfsConsumer {
							Fail(fmt.Sprintf("%s left the line exported in /sys/class/gpio", p.Name))
						}
						dut := line(dutName)
						req, err := gpiocdev.RequestLine(dut.ChipName, dut.Offset, gpiocdev.AsInput, gpiocdev.WithConsumer("gpiohil-next"))
						Expect(err).NotTo(HaveOccurred(), "requesting %s after %s's cleanup", dut, p.Name)
						Expect(req.Close()).To(Succeed())
					})
				})
			}
		})
	}
})
