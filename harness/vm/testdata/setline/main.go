// Command setline is a test helper: it drives a GPIO line, found by name, to a value with
// go-gpiocdev, runs a shell command while it holds the line, and releases it.
//
//	setline NAME VALUE 'shell command'
//
// The command sees LINE_CHIP and LINE_OFFSET in its environment.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/warthog618/go-gpiocdev"
)

func main() {
	if err := mainImpl(); err != nil {
		fmt.Fprintf(os.Stderr, "setline: %s\n", err)
		os.Exit(1)
	}
}

func mainImpl() error {
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: setline NAME VALUE 'shell command'")
	}
	v, err := strconv.Atoi(os.Args[2])
	if err != nil {
		return err
	}
	chip, offset, err := gpiocdev.FindLine(os.Args[1])
	if err != nil {
		return fmt.Errorf("find %s: %w", os.Args[1], err)
	}
	l, err := gpiocdev.RequestLine(chip, offset, gpiocdev.AsOutput(v), gpiocdev.WithConsumer("setline"))
	if err != nil {
		return err
	}
	defer l.Close()
	cmd := exec.Command("sh", "-c", os.Args[3])
	cmd.Env = append(os.Environ(), "LINE_CHIP="+chip, "LINE_OFFSET="+strconv.Itoa(offset))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
