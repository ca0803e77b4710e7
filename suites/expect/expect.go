// Package expect says what gpiohil's suites should observe after a tool's process is gone.
//
// The rules are data, in expectations.yaml (embedded; another file can be given): per tool
// and action, what the process leaves behind for each way it can end (the outcome), and per
// platform, what the kernel driver then shows (direction, level, drive, pull, owner). For
// instance gpio-sim returns a released line to its simulated pull, mainline pinctrl-bcm2835
// resets a released output to input unless persist_gpio_outputs is set, and a sysfs export
// outlives its writer.
//
// A combination the data does not cover has no expectation: For reports it as Unknown with
// the reason, and the suites record what they observed and skip the spec, never pass it.
package expect

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

//go:embed expectations.yaml
var builtin []byte

// Rules are the loaded expectation data.
type Rules struct {
	File      string                                                     // where they were read from, for messages
	Tools     map[string]map[vocab.Action]map[vocab.Ending]vocab.Outcome // tool -> action -> ending -> outcome
	Sources   map[string]string                                          // tool -> the file that first gave its outcomes
	Platforms []Platform
	// Starts says what a tool's start does to a line before it drives it, where that is not
	// just the request: tool -> StartInputNoPull. A tool not in it drives the line with its
	// first change.
	Starts map[string]string
}

// StartInputNoPull is a tool whose start makes the line an input with the pull off before it
// drives it (gpiozero 1.6 on RPi.GPIO): a restart of it leaves the line floating meanwhile.
const StartInputNoPull = "input-no-pull"

// StartLowFirst is a tool that requests an output and sets its value afterwards: it drives the
// line low for a moment before the level asked for.
const StartLowFirst = "output-low-first"

// Platform is what one kernel driver does with a line in each outcome.
type Platform struct {
	Name     string
	Driver   string        // the chip's driver it applies to
	Persist  vocab.Persist // the persist_gpio_outputs setting it applies to; unset means any
	Outcomes map[vocab.Outcome]Rule
}

// Rule is what a line in one outcome is observed as: field -> rule word. The words, as
// expectations.yaml documents them: direction input|output; level value|pull|0|1; drive
// driven|pull; pull bias|bias-or-before|before|none; owner free|used; consumer any name.
type Rule map[vocab.Field]string

// raw is the file as written, before its words are checked.
type raw struct {
	Tools     map[string]map[string]map[string]string `yaml:"tools"`
	Starts    map[string]string                       `yaml:"starts"`
	Platforms []struct {
		Name     string                       `yaml:"name"`
		Match    map[string]string            `yaml:"match"`
		Outcomes map[string]map[string]string `yaml:"outcomes"`
	} `yaml:"platforms"`
}

// BuiltinFile is the name the built-in rules go by in messages and Rules.Sources.
const BuiltinFile = "expectations.yaml"

// Builtin returns the rules shipped with gpiohil.
func Builtin() (*Rules, error) { return Parse(BuiltinFile, builtin) }

// Load reads rules from a file.
func Load(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse reads rules, strictly: unknown keys, outcomes, fields and values are errors naming
// the file and line.
func Parse(file string, data []byte) (*Rules, error) {
	var w raw
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return w.rules(file, &node)
}

// lineOf finds the line of the first scalar equal to s in the document, for error messages.
func lineOf(n *yaml.Node, s string) int {
	if n.Kind == yaml.ScalarNode && n.Value == s {
		return n.Line
	}
	for _, c := range n.Content {
		if l := lineOf(c, s); l > 0 {
			return l
		}
	}
	return 0
}

// ruleWords are the words each field's rule may use; nil means any word.
var ruleWords = map[vocab.Field][]string{
	vocab.FieldDirection: vocab.Strings(vocab.Directions),
	vocab.FieldLevel:     {"value", "pull", "0", "1"},
	vocab.FieldDrive:     {"driven", "pull"},
	vocab.FieldPull:      {"bias", "bias-or-before", "before", "none"},
	vocab.FieldOwner:     vocab.Strings(vocab.Owners),
	vocab.FieldConsumer:  nil,
	// How the line was given back: its last request's direction (none: nothing released it)
	// and bias (bias: the one the tool asked for).
	vocab.FieldReleasedDirection: {"input", "output", "none"},
	vocab.FieldReleasedBias:      {"bias", "as-is", "disabled"},
}

// rules checks every word of w and returns the typed rules.
func (w raw) rules(file string, root *yaml.Node) (*Rules, error) {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, lineOf(root, key), fmt.Sprintf(format, args...))
	}
	r := &Rules{File: file, Tools: map[string]map[vocab.Action]map[vocab.Ending]vocab.Outcome{}, Sources: map[string]string{}}
	for tool, actions := range w.Tools {
		r.Tools[tool] = map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
		r.Sources[tool] = file
		for action, byEnding := range actions {
			a, err := vocab.ParseAction(action)
			if err != nil {
				return nil, bad(action, "tool %s: unknown action %q; want one of %s", tool, action, strings.Join(vocab.Strings(vocab.Actions), ", "))
			}
			r.Tools[tool][a] = map[vocab.Ending]vocab.Outcome{}
			for ending, outcome := range byEnding {
				e, err := vocab.ParseEnding(ending)
				if err != nil || ending != e.String() {
					return nil, bad(ending, "tool %s action %s: unknown ending %q; want %s", tool, action, ending, vocab.OneOf(vocab.Words(vocab.Endings)))
				}
				o, err := vocab.ParseOutcome(outcome)
				if err != nil {
					return nil, bad(outcome, "tool %s action %s ending %s: unknown outcome %q; want one of %s", tool, action, ending, outcome, strings.Join(vocab.Strings(vocab.Outcomes), ", "))
				}
				r.Tools[tool][a][e] = o
			}
		}
	}
	for tool, start := range w.Starts {
		if start != StartInputNoPull && start != StartLowFirst {
			return nil, bad(start, "starts: tool %s: unknown start %q; want %s or %s", tool, start, StartInputNoPull, StartLowFirst)
		}
		if r.Starts == nil {
			r.Starts = map[string]string{}
		}
		r.Starts[tool] = start
	}
	for _, rp := range w.Platforms {
		if rp.Name == "" || rp.Match["driver"] == "" {
			return nil, bad("platforms", "every platform needs a name and match.driver")
		}
		for k := range rp.Match {
			if k != "driver" && k != "persist" {
				return nil, bad(k, "platform %s: unknown match key %q; want driver or persist", rp.Name, k)
			}
		}
		p := Platform{Name: rp.Name, Driver: rp.Match["driver"], Persist: vocab.ParsePersist(rp.Match["persist"]), Outcomes: map[vocab.Outcome]Rule{}}
		for outcome, fields := range rp.Outcomes {
			o, err := vocab.ParseOutcome(outcome)
			if err != nil {
				return nil, bad(outcome, "platform %s: unknown outcome %q; want one of %s", rp.Name, outcome, strings.Join(vocab.Strings(vocab.Outcomes), ", "))
			}
			rule := Rule{}
			for f, v := range fields {
				field, err := vocab.ParseField(f)
				if err != nil {
					return nil, bad(f, "platform %s outcome %s: unknown field %q; want one of %s", rp.Name, outcome, f, strings.Join(vocab.Strings(vocab.Fields), ", "))
				}
				if allowed := ruleWords[field]; allowed != nil && !slices.Contains(allowed, v) {
					return nil, bad(v, "platform %s outcome %s: field %s cannot be %q", rp.Name, outcome, f, v)
				}
				rule[field] = v
			}
			p.Outcomes[o] = rule
		}
		r.Platforms = append(r.Platforms, p)
	}
	return r, nil
}

// Case is what the suites ran.
type Case struct {
	Tool   string
	Action vocab.Action
	Ending vocab.Ending
	Value  int        // the value the tool drove
	Bias   vocab.Bias // the bias the tool asked for
	Before vocab.Pull // the line's pull before the tool ran
}

// Expectation is what should be observed, in the words of observe.Observation.
type Expectation struct {
	Platform string
	Outcome  vocab.Outcome
	Source   string // the file that says the tool leaves Outcome behind

	observe.Facts // the expected values

	// Fields lists the fields the platform's rule sets, in report order. A field it sets to
	// unknown (the level of a floating line) is listed but never checked.
	Fields []vocab.Field
}

// ErrUnknown is matched by For's error when the rules do not cover a combination.
var ErrUnknown = errors.New("no known expectation")

// Outcome returns what the rules say case c's tool leaves behind.
func (r *Rules) Outcome(c Case) (vocab.Outcome, error) {
	outcome := r.Tools[c.Tool][c.Action][c.Ending]
	if outcome == "" {
		return "", fmt.Errorf("%w: %s does not say what %s %s leaves behind when ended by %s", ErrUnknown, r.File, c.Tool, c.Action, c.Ending)
	}
	return outcome, nil
}

// Platform returns the rules' platform for what an observation saw.
func (r *Rules) Platform(p observe.Platform) (*Platform, error) {
	for i := range r.Platforms {
		rp := &r.Platforms[i]
		if rp.Driver == p.Driver && (rp.Persist == vocab.PersistUnset || rp.Persist == p.Persist) {
			return rp, nil
		}
	}
	return nil, fmt.Errorf("%w: %s has no platform for driver %q with persist_gpio_outputs %q", ErrUnknown, r.File, p.Driver, p.Persist)
}

// For returns the expectation for case c on platform p.
func (r *Rules) For(c Case, p observe.Platform) (Expectation, error) {
	outcome, err := r.Outcome(c)
	if err != nil {
		return Expectation{}, err
	}
	plat, err := r.Platform(p)
	if err != nil {
		return Expectation{}, err
	}
	exp, err := plat.Expect(outcome, c, r.File)
	exp.Source = r.Sources[c.Tool]
	return exp, err
}

// Expect returns what a line in outcome o is observed as on this platform, for case c (whose
// value, bias and pre-state the rule's words refer to); file names the rules in its error.
func (plat *Platform) Expect(o vocab.Outcome, c Case, file string) (Expectation, error) {
	rule, ok := plat.Outcomes[o]
	if !ok {
		return Expectation{}, fmt.Errorf("%w: %s: platform %s does not say what it does with a line %s", ErrUnknown, file, plat.Name, o)
	}
	e := Expectation{Platform: plat.Name, Outcome: o}
	pullRule, hasPull := rule[vocab.FieldPull]
	if !hasPull {
		pullRule = "bias"
	}
	pull := resolvePull(pullRule, c)
	for _, f := range vocab.Fields {
		v, ok := rule[f]
		if !ok {
			continue
		}
		e.Fields = append(e.Fields, f)
		switch f {
		case vocab.FieldDirection:
			e.Direction = vocab.Direction(v)
		case vocab.FieldLevel:
			e.Level = resolveLevel(v, c, pull)
		case vocab.FieldDrive:
			e.Drive = resolveDrive(v, pull)
		case vocab.FieldPull:
			e.Pull = pull
		case vocab.FieldOwner:
			e.Owner = vocab.Owner(v)
		case vocab.FieldConsumer:
			e.Consumer = v
		case vocab.FieldReleasedDirection:
			e.ReleasedDirection = vocab.Direction(v)
		case vocab.FieldReleasedBias:
			e.ReleasedBias = vocab.Bias(v)
			if v == "bias" {
				e.ReleasedBias = c.Bias
				if c.Bias == "" {
					e.ReleasedBias = vocab.BiasAsIs
				}
			}
		}
	}
	return e, nil
}

func resolvePull(rule string, c Case) vocab.Pull {
	switch rule {
	case "none":
		return vocab.PullNone
	case "before":
		return c.Before
	case "bias", "bias-or-before":
		if p, ok := c.Bias.Pull(); ok && (p != vocab.PullNone || rule == "bias") {
			return p
		}
		return c.Before
	}
	return vocab.Pull(rule)
}

func resolveLevel(rule string, c Case, pull vocab.Pull) vocab.Level {
	switch rule {
	case "value":
		return vocab.LevelOf(c.Value)
	case "pull":
		return pull.Level() // a floating line has no level to expect
	}
	return vocab.Level(rule)
}

func resolveDrive(rule string, pull vocab.Pull) vocab.Drive {
	if rule != "pull" {
		return vocab.Drive(rule)
	}
	return vocab.DriveOf(pull)
}

// Alike reports whether every observation that meets e, on the fields a bench with
// capabilities can sees, meets f as well: such an observation cannot tell that the line is
// in e's outcome rather than f's. A field f leaves open (or expects to be unknown) is met by
// anything.
func (e Expectation) Alike(f Expectation, can vocab.Capabilities) bool {
	for _, field := range vocab.Fields {
		if !can.Has(field) {
			continue
		}
		if w := f.want(field); w != "" && w != e.want(field) {
			return false
		}
	}
	return true
}

// want is what e expects of field f: its value, or "" when it leaves f open.
func (e Expectation) want(f vocab.Field) string {
	if !slices.Contains(e.Fields, f) || e.Value(f) == vocab.Unknown {
		return ""
	}
	return e.Value(f)
}

// Indistinct returns the other outcomes that, on platform p and for case c, would be observed
// exactly as c's own outcome is by a bench that sees can: when there are any, a met
// expectation is no evidence that the tool did what the rules say rather than one of those.
func (r *Rules) Indistinct(c Case, p observe.Platform, can vocab.Capabilities) ([]vocab.Outcome, error) {
	own, err := r.Outcome(c)
	if err != nil {
		return nil, err
	}
	plat, err := r.Platform(p)
	if err != nil {
		return nil, err
	}
	e, err := plat.Expect(own, c, r.File)
	if err != nil {
		return nil, err
	}
	var alike []vocab.Outcome
	for _, o := range vocab.Outcomes {
		if o == own {
			continue
		}
		if f, err := plat.Expect(o, c, r.File); err == nil && e.Alike(f, can) {
			alike = append(alike, o)
		}
	}
	return alike, nil
}

// Check compares an observation with the expectation. It returns the mismatches, one line each,
// and the expected fields that were not checked because the bench cannot see them.
func (e Expectation) Check(o observe.Observation) (mismatches []string, unchecked []vocab.Field) {
	for _, f := range e.Fields {
		want := e.Value(f)
		if want == vocab.Unknown {
			continue
		}
		if !o.Has(f) {
			unchecked = append(unchecked, f)
			continue
		}
		if got := o.Value(f); got != want {
			mismatches = append(mismatches, fmt.Sprintf("%s: got %s, want %s", f, got, want))
		}
	}
	slices.Sort(unchecked)
	return mismatches, unchecked
}

// Checkable reports how many of the expectation's fields the bench that made o can see.
func (e Expectation) Checkable(o observe.Observation) int {
	n := 0
	for _, f := range e.Fields {
		if e.Value(f) != vocab.Unknown && o.Has(f) {
			n++
		}
	}
	return n
}

// String is the expected state in the words of observe.Observation.State.
func (e Expectation) String() string {
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, string(f)+"="+e.Value(f))
	}
	return strings.Join(parts, " ")
}

// Merge adds the tools and platforms of o to r. A tool outcome or a platform that both have
// and that differs is a conflict: an error naming both files, never a silent override. What is
// the same in both is taken once.
func (r *Rules) Merge(o *Rules) error {
	var errs []error
	for tool, actions := range o.Tools {
		for action, byEnding := range actions {
			for ending, outcome := range byEnding {
				if err := r.addOutcome(tool, action, ending, outcome, o.File); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	for tool, start := range o.Starts {
		switch have, ok := r.Starts[tool]; {
		case !ok:
			if r.Starts == nil {
				r.Starts = map[string]string{}
			}
			r.Starts[tool] = start
		case have != start:
			errs = append(errs, fmt.Errorf("%s: tool %s starts %s, but %s says %s; one of them is wrong", o.File, tool, start, r.File, have))
		}
	}
	for _, p := range o.Platforms {
		i := slices.IndexFunc(r.Platforms, func(q Platform) bool { return q.Name == p.Name })
		switch {
		case i < 0:
			r.Platforms = append(r.Platforms, p)
		case !reflect.DeepEqual(r.Platforms[i], p):
			errs = append(errs, fmt.Errorf("%s: platform %q is also in %s, with other rules; give it another name, or use only your file (--no-builtin-expectations)", o.File, p.Name, r.File))
		}
	}
	if len(errs) == 0 && o.File != "" && o.File != r.File {
		r.File += ", " + o.File
	}
	return errors.Join(errs...)
}

// AddTool adds what a tool's actions leave behind, for each ending, as its own profile says
// (source names the profile file in messages); a conflict with the rules already there is an
// error.
func (r *Rules) AddTool(tool, source string, outcomes map[vocab.Action]map[vocab.Ending]vocab.Outcome) error {
	var errs []error
	for _, action := range vocab.Actions {
		for _, ending := range vocab.Endings {
			if o, ok := outcomes[action][ending]; ok {
				if err := r.addOutcome(tool, action, ending, o, source); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Rules) addOutcome(tool string, action vocab.Action, ending vocab.Ending, o vocab.Outcome, source string) error {
	if have, ok := r.Tools[tool][action][ending]; ok {
		if have != o {
			return fmt.Errorf("%s: tool %s %s ended by %s leaves the line %s, but %s says %s; one of them is wrong", source, tool, action, ending, o, r.File, have)
		}
		return nil
	}
	if r.Tools == nil {
		r.Tools = map[string]map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	}
	if r.Tools[tool] == nil {
		r.Tools[tool] = map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	}
	if r.Sources[tool] == "" {
		if r.Sources == nil {
			r.Sources = map[string]string{}
		}
		r.Sources[tool] = source
	}
	if r.Tools[tool][action] == nil {
		r.Tools[tool][action] = map[vocab.Ending]vocab.Outcome{}
	}
	r.Tools[tool][action][ending] = o
	return nil
}
