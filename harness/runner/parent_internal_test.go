package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// TestParentDeathNeedsHook must not run in parallel: it unsets the hook flag
// that TestMain set.
func TestParentDeathNeedsHook(t *testing.T) {
	parentHooked.Store(false)
	defer parentHooked.Store(true)
	_, err := Run(context.Background(), Spec{Argv: []string{"sleep", "10"}, Ending: vocab.ParentDeath})
	if err == nil || !strings.Contains(err.Error(), "needs runner.MaybeRunParent()") {
		t.Errorf("ParentDeath without the hook: %v; want an error naming MaybeRunParent", err)
	}
}
