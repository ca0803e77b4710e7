package suites_test

import (
	"github.com/gpiohil/gpiohil/harness/vocab"
	. "github.com/onsi/ginkgo/v2"
)

// Persistence: a tool sets the line (an output high, or an input with a bias) and its process
// ends: by itself, by SIGINT, SIGTERM, SIGKILL, or by its parent's death. What is the line
// doing once the process is gone?
var _ = Describe("persistence", Label("persistence"), func() {
	for _, p := range profiles {
		if entries := scenarios(vocab.Persistence, p, vocab.SetOutput, vocab.SetInput, vocab.Hold, vocab.Crash); len(entries) > 0 {
			DescribeTable(p.Name, append([]any{Label("tool:" + p.Name), check}, entries...)...)
		}
	}
})
