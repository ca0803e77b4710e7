package bench

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
)

// regMark writes the register witness's marks in the emulated Pi: a 32-bit number at an
// offset of the GPIO block that the hardware does not use (regwitness.MarkOffset), through
// /dev/mem (the kernel parameter iomem=relaxed allows it). QEMU ignores the write but its trace
// of the block's writes records it, in order with every tool's writes; the host then knows
// each pin's function, latch and pull at the moment of each observation (package regwitness).
// It is opened only in gpiohil's own VM: on a real board the offset is reserved.
type regMark struct {
	mu  sync.Mutex
	mem []byte
}

// lastMark numbers the marks of this process: one sequence however many benches it opens, as
// the decoder refuses a mark written twice in one boot.
var lastMark uint32

// openRegMark maps the GPIO block's page at physical address base: regwitness.Base on the
// BCM2837 (QEMU's raspi3b), regwitness.Base2711 on the BCM2711 (raspi4b).
func openRegMark(base int64) (*regMark, error) {
	f, err := os.OpenFile("/dev/mem", os.O_RDWR|os.O_SYNC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), base, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map the GPIO registers at %#x through /dev/mem (is iomem=relaxed on the kernel command line?): %w", base, err)
	}
	return &regMark{mem: mem}, nil
}

// mark writes the next mark and returns it.
func (m *regMark) mark() uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := atomic.AddUint32(&lastMark, 1)
	// One aligned 32-bit store: the device sees a single write of the whole number.
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&m.mem[regwitness.MarkOffset])), n)
	return n
}

func (m *regMark) close() error { return unix.Munmap(m.mem) }
