package profile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/harness/yamlcheck"
)

// Promise is what a tool's documentation says about a line after the process ends.
type Promise string

// The promises a profile can record; the package documentation defines each.
const (
	Keeps             Promise = "keeps"
	Input             Promise = "input"
	InputNoPull       Promise = "input-no-pull"
	ReleasedUndefined Promise = "released-undefined"
	Unspecified       Promise = "unspecified"
)

// PromiseValues lists every known promise.
var PromiseValues = []Promise{Keeps, Input, InputNoPull, ReleasedUndefined, Unspecified}

// Promises records what the tool's documentation promises about the line once
// the process has ended in each way. Unset entries are Unspecified.
type Promises struct {
	AfterExit   Promise // ended by itself, or after its own cleanup
	AfterSignal Promise // ended by SIGINT or SIGTERM
	AfterKill   Promise // ended by SIGKILL
	Source      string  // where the promise is written down
}

// Action is one standard action of a profile.
type Action struct {
	Name         vocab.Action
	Command      []string // argv templates, as written in the file
	Holds        bool     // true: keeps the line until signalled; false: ends by itself
	SupportsBias []vocab.Bias
	Ready        string // text printed once the lines are set; "" if the tool prints none
	Promises     Promises
	Line         int // line of the action in the profile file

	templates []*template.Template
}

// Profile describes one tool under test. Build it with [Parse], [Load] or
// [Lookup]; its fields are for reading.
type Profile struct {
	Name           string
	Description    string
	File           string // file it was read from, as named in error messages
	InstallHint    string
	Requires       []string
	CheckCommand   []string
	VersionCommand []string
	VersionMatch   string            // regexp; "" if any version will do
	BenchKinds     []vocab.BenchKind // the benches it makes sense on; empty means all
	// Access is how the tool reaches the pins: through the kernel's GPIO interfaces (the
	// default) or by writing the GPIO registers itself (RPi.GPIO, pigpiod). A register-level
	// tool never requests a line, so the kernel's line info cannot tell when it holds one.
	Access    Access
	BiasWords map[vocab.Bias]string
	Actions   map[vocab.Action]*Action
	// Expect is what the tool's actions leave behind, per ending, as the profile itself says
	// (its expect: block); nil when it says nothing. Package suites merges it with the
	// built-in expectations.
	Expect map[vocab.Action]map[vocab.Ending]vocab.Outcome

	versionRE *regexp.Regexp
	host      hostTemplates
}

// Access is how a tool reaches the pins.
type Access string

const (
	// AccessKernel: through the kernel's GPIO character device or sysfs (the default).
	AccessKernel Access = "kernel"
	// AccessRegisters: by writing the GPIO block's registers (/dev/gpiomem, /dev/mem).
	AccessRegisters Access = "registers"
)

// Accesses are the values of a profile's access: key.
var Accesses = []Access{AccessKernel, AccessRegisters}

// hostTemplates are the compiled templates that may only use {{.Self}}.
type hostTemplates struct {
	requires, check, version []*template.Template
}

// Vars are what an action is asked to do on which line. Zero Bias means as-is;
// an empty Self means [Self]().
type Vars struct {
	Self        string
	Chip        string
	ChipName    string
	ChipLabel   string
	Line        string
	Offset      int
	Value       int
	Bias        vocab.Bias
	SysfsNumber int
}

// templateData is what a command template sees: Vars, with Bias spelled in
// the tool's own word (bias-words).
type templateData struct {
	Self        string
	Chip        string
	ChipName    string
	ChipLabel   string
	Line        string
	Offset      int
	Value       int
	Bias        string
	SysfsNumber int
}

func (p *Profile) data(v Vars) templateData {
	return templateData{Self: v.Self, Chip: v.Chip, ChipName: v.ChipName, ChipLabel: v.ChipLabel, Line: v.Line,
		Offset: v.Offset, Value: v.Value, Bias: p.biasWord(v.Bias), SysfsNumber: v.SysfsNumber}
}

// Self returns the path of the gpiohil binary used for {{.Self}}: $GPIOHIL_BIN
// if set; else the running executable if it is named gpiohil; else gpiohil
// as found on PATH (or just "gpiohil", which Installed then reports missing).
// It never returns another program, such as a test binary, which would run
// its tests when asked to "drive".
func Self() string {
	if s := runenv.Bin(); s != "" {
		return s
	}
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "gpiohil" {
		return exe
	}
	if p, err := exec.LookPath("gpiohil"); err == nil {
		return p
	}
	return "gpiohil"
}

var (
	// ErrUnsupported is matched by errors for an action a profile does not
	// provide or a bias an action does not support: the spec should skip.
	ErrUnsupported = errors.New("not supported by the tool")

	// ErrNotFound is matched by the error of [Lookup] for an unknown name.
	ErrNotFound = errors.New("no such profile")
)

// Error is a problem in a profile file, at a position in it (file:line:col).
type Error = yamlcheck.Error

// UnsupportedError reports an action the profile does not provide (Bias is
// empty) or a bias the action does not support. It matches [ErrUnsupported].
type UnsupportedError struct {
	Profile string
	Action  vocab.Action
	Bias    vocab.Bias
	Known   []string // the actions, or the biases, that are supported
}

func (e *UnsupportedError) Error() string {
	if e.Bias == "" {
		return fmt.Sprintf("profile %s: action %q %v; it provides: %s",
			e.Profile, e.Action, ErrUnsupported, strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("profile %s: bias %q for action %q %v; it supports: %s",
		e.Profile, e.Bias, e.Action, ErrUnsupported, strings.Join(e.Known, ", "))
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// Names returns the names of the actions the profile provides, in the order
// of [vocab.Actions].
func (p *Profile) Names() []vocab.Action {
	var names []vocab.Action
	for _, n := range vocab.Actions {
		if p.Actions[n] != nil {
			names = append(names, n)
		}
	}
	return names
}

// Command renders the argv of an action for the given line. It returns an
// error matching [ErrUnsupported] if the profile does not provide the action
// or the action does not support v.Bias.
func (p *Profile) Command(name vocab.Action, v Vars) ([]string, error) {
	a := p.Actions[name]
	if a == nil {
		return nil, &UnsupportedError{Profile: p.Name, Action: name, Known: vocab.Strings(p.Names())}
	}
	if v.Bias == "" {
		v.Bias = vocab.BiasAsIs
	}
	if !slices.Contains(vocab.Biases, v.Bias) {
		return nil, fmt.Errorf("profile %s: unknown bias %q for action %q; known biases: %s",
			p.Name, v.Bias, name, joinAny(vocab.Biases))
	}
	if !slices.Contains(a.SupportsBias, v.Bias) {
		return nil, &UnsupportedError{Profile: p.Name, Action: name, Bias: v.Bias, Known: vocab.Strings(a.SupportsBias)}
	}
	if v.Value != 0 && v.Value != 1 {
		return nil, fmt.Errorf("profile %s: value %d for action %q; want 0 or 1", p.Name, v.Value, name)
	}
	if v.Self == "" {
		v.Self = Self()
	}
	if v.ChipName == "" && strings.HasPrefix(v.Chip, "/dev/") {
		v.ChipName = strings.TrimPrefix(v.Chip, "/dev/")
	}
	argv, err := render(a.templates, p.data(v))
	if err != nil {
		return nil, fmt.Errorf("profile %s: action %q: %w", p.Name, name, err)
	}
	return argv, nil
}

// biasWord returns the tool's spelling of b.
func (p *Profile) biasWord(b vocab.Bias) string {
	if w, ok := p.BiasWords[b]; ok {
		return w
	}
	return string(b)
}

// render executes argv templates, dropping elements that render empty.
func render(ts []*template.Template, v templateData) ([]string, error) {
	argv := make([]string, 0, len(ts))
	for _, t := range ts {
		var b strings.Builder
		if err := t.Execute(&b, v); err != nil {
			return nil, err
		}
		if b.Len() > 0 {
			argv = append(argv, b.String())
		}
	}
	if len(argv) == 0 {
		return nil, errors.New("command renders to an empty argv")
	}
	return argv, nil
}

func joinAny[T ~string](xs []T) string { return strings.Join(vocab.Strings(xs), ", ") }

// PromisedOutcomes is what the tool's documented promises say its actions leave behind, for a
// tool that gives lines back through the kernel's character device: after a cleanup that
// promises an input without pull, a line released as an input with bias disabled; an input, a
// released input; keeps or undefined, the line released as it was (an output, or the input of
// set-input). An unspecified promise says nothing. A tool that writes the registers itself
// (RPi.GPIO, pigpio) leaves lines unmanaged instead, which promises cannot say: its profile
// needs an expect: block.
func (p *Profile) PromisedOutcomes() map[vocab.Action]map[vocab.Ending]vocab.Outcome {
	out := map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	for _, name := range p.Names() {
		a := p.Actions[name]
		for _, e := range vocab.Endings {
			var promise Promise
			switch {
			case e == vocab.Exit && !a.Holds:
				promise = a.Promises.AfterExit
			case e == vocab.SIGINT || e == vocab.SIGTERM:
				promise = a.Promises.AfterSignal
			case (e == vocab.SIGKILL || e == vocab.ParentDeath) && a.Holds:
				promise = a.Promises.AfterKill
			}
			o := promisedOutcome(name, promise)
			if o == "" || (!a.Holds && e != vocab.Exit) || (a.Holds && e == vocab.Exit) {
				continue
			}
			if out[name] == nil {
				out[name] = map[vocab.Ending]vocab.Outcome{}
			}
			out[name][e] = o
		}
	}
	return out
}

func promisedOutcome(action vocab.Action, p Promise) vocab.Outcome {
	switch p {
	case InputNoPull:
		return vocab.ReleasedInputNoBias
	case Input:
		return vocab.ReleasedInput
	case Keeps, ReleasedUndefined:
		if action == vocab.SetInput {
			return vocab.ReleasedInput
		}
		return vocab.ReleasedOutput
	}
	return ""
}
