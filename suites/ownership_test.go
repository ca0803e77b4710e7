package suites_test

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Ownership: while a tool holds a line, a second request fails with busy and line info names
// the holder; once the tool is gone the line is free.
var _ = Describe("ownership", Label("ownership"), func() {
	for _, p := range profiles {
		if p.Actions[vocab.Hold] == nil {
			continue
		}
		if p.Access == profile.AccessRegisters {
			registerOwnership(p)
			continue
		}
		It(p.Name+" holds the line exclusively and names itself, then frees it", Label("tool:"+p.Name, "action:hold", "ending:sigterm"), func() {
			requireUsable(p)
			dut := line(dutName)
			DeferCleanup(func() { Expect(b.Restore(dut)).To(Succeed()) })
			var busyErr error
			var held observe.Observation
			var observeErr error
			whileHeld := func() {
				req, err := gpiocdev.RequestLine(dut.ChipName, dut.Offset, gpiocdev.AsInput, gpiocdev.WithConsumer("gpiohil-second"))
				if err == nil {
					req.Close()
				}
				busyErr = err
				held, observeErr = b.Observe(dut)
			}
			tr, err := trial.Run(context.Background(), b, dut, trial.Case{Profile: p, Action: vocab.Hold, Value: 1,
				Bias: biases(p.Actions[vocab.Hold])[0], Ending: vocab.SIGTERM, Pre: preDown, WhileHeld: whileHeld})
			if errors.Is(err, trial.ErrSkip) {
				Skip(err.Error())
			}
			if err != nil {
				infrastructure(err)
			}
			Expect(observeErr).NotTo(HaveOccurred())
			Expect(busyErr).To(MatchError(unix.EBUSY), "a second request while %s holds the line", p.Name)
			if held.Has(vocab.FieldOwner) {
				Expect(held.Owner).To(Equal(vocab.Used))
				Expect(held.Consumer).NotTo(BeEmpty(), "line info should name %s as the consumer", p.Name)
				Expect(held.Consumer).NotTo(Equal(bench.Consumer), "the consumer is the harness, not the tool")
			}
			Expect(tr.After.Owner).To(Equal(vocab.Free), "after %s is gone (%s)", p.Name, tr.Run.Status())
			req, err := gpiocdev.RequestLine(dut.ChipName, dut.Offset, gpiocdev.AsInput, gpiocdev.WithConsumer("gpiohil-next"))
			Expect(err).NotTo(HaveOccurred())
			Expect(req.Close()).To(Succeed())
		})
	}
})

// registerOwnership is the ownership spec of a tool that writes the GPIO registers itself
// (RPi.GPIO): the kernel never learns that it uses the line, so line info shows the line free
// while the tool drives it, and another program could request it. That is what the spec
// checks; nothing requests the line while the tool holds it (the request would change the
// pin under the tool).
func registerOwnership(p *profile.Profile) {
	It(p.Name+" writes the registers: the kernel never sees the line used", Label("tool:"+p.Name, "action:hold", "ending:sigterm"), func() {
		requireUsable(p)
		dut := line(dutName)
		DeferCleanup(func() { Expect(b.Restore(dut)).To(Succeed()) })
		var held observe.Observation
		var observeErr error
		tr, err := trial.Run(context.Background(), b, dut, trial.Case{Profile: p, Action: vocab.Hold, Value: 1,
			Bias: biases(p.Actions[vocab.Hold])[0], Ending: vocab.SIGTERM, Pre: preDown,
			WhileHeld: func() { held, observeErr = b.Observe(dut) }})
		if errors.Is(err, trial.ErrSkip) {
			Skip(err.Error())
		}
		if err != nil {
			infrastructure(err)
		}
		Expect(observeErr).NotTo(HaveOccurred())
		if !held.Has(vocab.FieldOwner) {
			Skip(fmt.Sprintf("the %s bench does not see a line's owner", b.Kind()))
		}
		Expect(held.Owner).To(Equal(vocab.Free), "line info while %s drives the line", p.Name)
		if held.Has(vocab.FieldDirection) {
			Expect(held.Direction).To(Equal(vocab.Output), "the pin while %s drives it", p.Name)
		}
		Expect(tr.After.Owner).To(Equal(vocab.Free), "after %s is gone (%s)", p.Name, tr.Run.Status())
	})
}
