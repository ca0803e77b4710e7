// Package loopback runs gpiohil's checks on a real Raspberry Pi, where the only trustworthy
// witness of a pin is its partner: a second header pin joined to it by a jumper.
//
// # Wiring
//
// A rig file (package rig) names the board, the GPIO chip by label, the pairs of pins joined
// by jumpers and every line gpiohil may touch. The built-in plan (package header, printed by
// `gpiohil wiring`) joins eight pairs on a 40-pin Pi 1 B+ to Pi 5:
//
//	A GPIO17-GPIO18  B GPIO27-GPIO22  C GPIO23-GPIO24  D GPIO6-GPIO12
//	E GPIO19-GPIO16  F GPIO21-GPIO20  G GPIO5-GPIO13   H GPIO26-GPIO25
//
// The first of each pair is the line under test, which the tools under test drive; the second
// is its partner, which gpiohil holds as an input and never drives while a tool may hold the
// line. docs/hardware.md says how to wire a board and set it up.
//
// # Use: check, then probe, then bench
//
//	r, _ := rig.Load("lab.yaml")
//	b, err := loopback.Open(r, loopback.Options{}) // board lock, preflight; touches nothing yet
//	defer b.Close()                                 // every touched line back to input, no bias
//	rep := b.Check()                                // the wiring check: run it first, once
//	for _, res := range rep.Results { ... }         // res.Err(): a *check.PairError per bad jumper
//	l, _ := b.Line("GPIO17")
//	b.Prepare(l, bench.State{...})                  // partner held as input first
//	// ... run the tool under test on l ...
//	o, _ := b.Observe(l)                            // the partner probe, as an observe.Observation
//
// Bench implements harness/bench.Bench (kind "rpi"), so the persistence and cleanup suites run
// on a board unchanged. Until Check has run every Prepare and Observe is refused, and after it
// every operation on a pair that failed returns that pair's *check.PairError, which matches
// check.ErrMiswired: an infrastructure error, never a product failure.
//
// # Safety
//
// Every request goes through one safety.Interlock (package safety has the rules). Close, also
// available as Shutdown, restores every line the bench touched and releases the board lock;
// it is safe to call from a goroutine that handles SIGINT or SIGTERM while a spec is running:
//
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	go func() { <-ctx.Done(); b.Shutdown(); writePartialJUnit() }()
//
// # What the bench can see
//
// From a partner pin the bench sees the pin's electrical state: driven high or low, pulled up
// or down, or floating (package probe). Direction is reported as the electrical one (a driven
// pin has its output driver on; a pulled or floating one has not); the kernel's own idea of
// the direction, and whether a released line is still "requested", are not visible from the
// partner. Owner comes from line info, which is accurate at all times for the character
// device and sysfs, but blind to tools that write the GPIO registers directly (RPi.GPIO,
// pigpio): those show as free. Where the probe's reads fit several states, every field that
// differs between them is Unknown and the evidence says why.
//
// While a tool runs, the bench also watches the partner's edges (WatchEdges, a
// bench.EdgeWatcher): every change of the wire's level, with the kernel's timestamp, for the
// spec's timeline. The watch ends before the observation's probe touches the partner.
//
// In the VM lane the same code runs against a simulated wire on gpio-sim (package wire), with
// the wire itself as the Settler.
package loopback
