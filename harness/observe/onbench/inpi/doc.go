// Package inpi tests `gpiohil observe` (package onbench) on the genuine pinctrl-bcm2835 driver,
// inside gpiohil's emulated Raspberry Pi 3 (package rpi3test), once per lane: with
// persist_gpio_outputs off, then on. It holds tests only: go test ./harness/observe/onbench/inpi.
package inpi
