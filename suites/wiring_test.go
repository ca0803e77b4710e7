package suites_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/suites"
)

// The wiring check of a loopback rig (bench rpi) runs in BeforeSuite, before any spec may
// drive a pin; here each jumper gets its own row in the report. A jumper that failed is an
// infrastructure error naming the jumper to fix, and every spec on its pair is refused.
var _ = Describe("wiring", Label("wiring"), func() {
	r, err := suites.Rig(run)
	if err != nil {
		It("rig file loads", func() { infrastructure(err) })
		return
	}
	if r == nil {
		return
	}
	for _, p := range r.Pairs {
		It(fmt.Sprintf("jumper %s joins %s and %s", p.Name, p.Line, p.Partner), func() {
			lb, ok := b.(*loopback.Bench)
			if !ok {
				Skip("not a loopback rig")
			}
			res, err := lb.PairErr(p.Line)
			if err != nil {
				infrastructure(err)
			}
			for _, n := range res.Notes {
				AddReportEntry("note", n)
			}
		})
	}
})
