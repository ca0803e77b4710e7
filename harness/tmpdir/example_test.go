package tmpdir_test

import (
	"fmt"

	"github.com/gpiohil/gpiohil/harness/tmpdir"
)

func ExampleOwner() {
	pid, start, ok := tmpdir.Owner("gpiohil-vm-4242-1234567-2875521341", tmpdir.Prefixes()...)
	fmt.Println(pid, start, ok)
	_, _, ok = tmpdir.Owner("gpiohil-vm-2875521341", tmpdir.Prefixes()...) // not a name Make gives
	fmt.Println(ok)
	// Output:
	// 4242 1234567 true
	// false
}
