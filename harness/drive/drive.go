package drive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/warthog618/go-gpiocdev"
)

// DefaultConsumer is the consumer name of the requests unless Config.Consumer says otherwise.
const DefaultConsumer = "gpiohil-drive"

// Ready is what hold, hold-cleanup and panic modes print on stdout once they hold the lines.
const Ready = "ready\n"

// maxConsumer is the longest consumer name the kernel keeps (GPIO_MAX_NAME_SIZE less the NUL);
// go-gpiocdev would silently cut a longer one.
const maxConsumer = 31

// Mode says how the tool ends once its lines are set. It is a flag.Value.
type Mode string

// The modes; the package documentation says what each one leaves behind.
const (
	ModeExit        Mode = "exit"
	ModeCleanup     Mode = "cleanup"
	ModeHold        Mode = "hold"
	ModeHoldCleanup Mode = "hold-cleanup"
	ModePanic       Mode = "panic"
)

var modes = []Mode{ModeExit, ModeCleanup, ModeHold, ModeHoldCleanup, ModePanic}

// String and Set make Mode a flag.Value that accepts only its constants (vocab.Bias and
// vocab.Direction are flag.Values too).
func (m Mode) String() string      { return string(m) }
func (m *Mode) Set(s string) error { return vocab.SetWord(m, s, modes) }

// oneOf spells valid choices as "a, b or c".
func oneOf[T ~string](valid []T) string { return vocab.OneOf(valid) }

// endSignals are the signals that end a hold: the ones a terminal (SIGINT, SIGHUP), systemd
// or kill (SIGTERM) send. SIGKILL is not among them: no program can handle it.
var endSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// Config is one run of the tool, as written on the command line. The zero value of a field is
// its default: mode exit, bias as-is, direction output, consumer DefaultConsumer.
type Config struct {
	Chip      string          // chip name, path or label; "" means find lines by name on every chip
	Mode      Mode            // how to end
	Bias      vocab.Bias      // pull to request
	Direction vocab.Direction // direction to request
	Consumer  string          // consumer name in line info
	Lines     []string        // LINE=VALUE for outputs, LINE for inputs
}

// lineArg is one LINE[=VALUE] argument, checked.
type lineArg struct {
	line  string // a name, or an offset when Config.Chip is set
	value int    // 0 or 1; 0 for inputs
}

// Validate checks everything about c that can be checked without touching a chip. Its errors
// are usage errors; Run returns them too.
func (c Config) Validate() error {
	_, _, err := c.parse()
	return err
}

// parse validates c and returns it with defaults filled in, and its lines.
func (c Config) parse() (Config, []lineArg, error) {
	if c.Mode == "" {
		c.Mode = ModeExit
	}
	if c.Bias == "" {
		c.Bias = vocab.BiasAsIs
	}
	if c.Direction == "" {
		c.Direction = vocab.Output
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if !slices.Contains(modes, c.Mode) {
		return c, nil, fmt.Errorf("drive: mode %q: want %s", c.Mode, oneOf(modes))
	}
	if !slices.Contains(vocab.Biases, c.Bias) {
		return c, nil, fmt.Errorf("drive: bias %q: want %s", c.Bias, oneOf(vocab.Biases))
	}
	if !slices.Contains(vocab.Directions, c.Direction) {
		return c, nil, fmt.Errorf("drive: direction %q: want %s", c.Direction, oneOf(vocab.Directions))
	}
	if len(c.Consumer) > maxConsumer {
		return c, nil, fmt.Errorf("drive: consumer %q is %d bytes long; the kernel keeps at most %d", c.Consumer, len(c.Consumer), maxConsumer)
	}
	if len(c.Lines) == 0 {
		return c, nil, fmt.Errorf("drive: no lines given; want LINE=VALUE (output) or LINE (input)")
	}
	var args []lineArg
	seen := map[string]bool{}
	for _, s := range c.Lines {
		line, value, hasValue := strings.Cut(s, "=")
		a := lineArg{line: line}
		switch {
		case line == "":
			return c, nil, fmt.Errorf("drive: %q: no line before the '='", s)
		case c.Direction == vocab.Input && hasValue:
			return c, nil, fmt.Errorf("drive: %q: an input takes no value; write just %s", s, line)
		case c.Direction == vocab.Output && !hasValue:
			return c, nil, fmt.Errorf("drive: %q: an output needs a value; write %s=0 or %s=1", s, line, line)
		case hasValue && value != "0" && value != "1":
			return c, nil, fmt.Errorf("drive: %q: value %q is not 0 or 1", s, value)
		case seen[line]:
			return c, nil, fmt.Errorf("drive: line %s is given twice", line)
		}
		seen[line] = true
		if value == "1" {
			a.value = 1
		}
		args = append(args, a)
	}
	return c, args, nil
}

// Run does what c says: requests the lines, sets them, and ends as c.Mode says. Errors are
// returned before anything is requested when c is invalid (see Validate) or a chip or line
// cannot be found, and name what failed. In hold mode Run returns only on error: a signal ends
// the process. In panic mode it panics.
//
// Run writes Ready to stdout in one Write call; os.Stdout is unbuffered, so a runner reading
// the pipe sees it at once.
func Run(cfg Config, stdout io.Writer) error {
	c, args, err := cfg.parse()
	if err != nil {
		return err
	}

	// Decide how signals are treated before the lines are requested, so there is no moment
	// when the lines are held and the signal behaviour is not yet the one this mode models.
	var signals chan os.Signal
	switch c.Mode {
	case ModeHold:
		// Hold models a program without a signal handler. A caller may have installed one
		// (gpiohil's main does, to stop VMs cleanly): Reset restores Go's default behaviour,
		// in which SIGINT, SIGTERM and SIGHUP end the process without running deferred code.
		signal.Reset(endSignals...)
	case ModeHoldCleanup:
		// Buffered, so a signal arriving before we wait for it is not lost (signal.Notify
		// never blocks: it drops signals a full channel cannot take).
		signals = make(chan os.Signal, 1)
		signal.Notify(signals, endSignals...)
		defer signal.Stop(signals)
	}

	reqs, err := request(c, args)
	if err != nil {
		return err
	}

	switch c.Mode {
	case ModeExit:
		// No cleanup: the lines are released as they are. Closing the requests is exactly
		// what the kernel does when the process exits with them open.
		return reqs.release()

	case ModeCleanup:
		return reqs.cleanup()

	case ModeHold:
		if err := announce(stdout); err != nil {
			return errors.Join(err, reqs.release())
		}
		holdForever()

	case ModeHoldCleanup:
		if err := announce(stdout); err != nil {
			return errors.Join(err, reqs.release())
		}
		<-signals
		return reqs.cleanup()

	case ModePanic:
		if err := announce(stdout); err != nil {
			return errors.Join(err, reqs.release())
		}
		// Nothing is deferred here: the lines are still held when the runtime ends the
		// process, as in a program that crashes while driving them.
		panic(fmt.Sprintf("gpiohil drive: panic mode: crashing on purpose while holding %s", reqs))
	}
	panic("unreachable: parse accepted mode " + string(c.Mode))
}

// announce tells whoever runs the tool that the lines are held.
func announce(stdout io.Writer) error {
	if _, err := io.WriteString(stdout, Ready); err != nil {
		return fmt.Errorf("drive: print %q: %w", strings.TrimSpace(Ready), err)
	}
	return nil
}

// holdForever blocks until a signal ends the process. It sleeps rather than using `select {}`,
// which the runtime reports as a deadlock (and crashes) when no other goroutine can run.
func holdForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// held is the set of requests the tool holds: one per chip.
type held []*chipRequest

// chipRequest is one granted request of lines on one chip.
type chipRequest struct {
	lines   *gpiocdev.Lines
	targets []target // in request order
}

func (h held) String() string {
	var s []string
	for _, r := range h {
		for _, t := range r.targets {
			s = append(s, t.String())
		}
	}
	return strings.Join(s, ", ")
}

// release closes every request. The kernel then frees the lines: gpiolib does not touch them,
// the chip driver's free callback may (see the package documentation).
func (h held) release() error {
	var errs []error
	for _, r := range h {
		if err := r.lines.Close(); err != nil {
			errs = append(errs, fmt.Errorf("drive: release %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// cleanup puts the lines this process requested, and no others, back to input with bias
// disabled, then releases them. It reconfigures through the request it already holds: releasing
// first and requesting again would leave a moment when the lines are free and could be taken
// by someone else, and would release them twice.
func (h held) cleanup() error {
	var errs []error
	for _, r := range h {
		if err := r.lines.Reconfigure(gpiocdev.AsInput, gpiocdev.WithBiasDisabled); err != nil {
			errs = append(errs, fmt.Errorf("drive: clean up %s (input, bias disabled): %w", r, err))
		}
	}
	// Release even when a reconfigure failed: holding the lines longer helps nobody.
	return errors.Join(append(errs, h.release())...)
}

func (r *chipRequest) String() string {
	return held{r}.String()
}
