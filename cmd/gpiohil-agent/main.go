// Command gpiohil-agent is gpiohil built with nothing but its guest agent: the first process
// of the VMs that `gpiohil vm run` boots. It is the same agent gpiohil itself runs when it finds
// itself as a guest's /init, in a binary less than half the size, which the guest kernel
// unpacks from the initramfs faster at every boot. `gpiohil vm run` uses it when it lies next
// to gpiohil (make build puts it there) or when $GPIOHIL_AGENT names it.
//
// Run anywhere else, it says what it is and exits with status 2.
package main

import (
	"fmt"
	"os"

	"github.com/gpiohil/gpiohil/harness/vm/guest"
)

func main() {
	if guest.IsAgent() {
		guest.Main()
	}
	fmt.Fprintln(os.Stderr, "gpiohil-agent: the guest agent of gpiohil's VMs; it runs only as a VM's /init (see gpiohil vm run)")
	os.Exit(2)
}
