package launch_test

import (
	"os"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// TestMain removes the gpiohil binary the tests built for the guest, if they built one.
func TestMain(m *testing.M) {
	code := m.Run()
	vmtest.RemoveBuilt()
	os.Exit(code)
}
