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
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gpiohil/gpiohil/harness/observe"
)

//go:embed expectations.yaml
var builtin []byte

// Rules are the loaded expectation data.
type Rules struct {
	File      string                                  `yaml:"-"`
	Tools     map[string]map[string]map[string]string `yaml:"tools"` // tool -> action -> ending -> outcome
	Platforms []Platform                              `yaml:"platforms"`
}

// Platform is what one kernel driver does with a line in each outcome.
type Platform struct {
	Name     string                       `yaml:"name"`
	Match    map[string]string            `yaml:"match"` // driver, and persist where it matters
	Outcomes map[string]map[string]string `yaml:"outcomes"`
}

// Outcomes a tool can leave behind.
var Outcomes = []string{"released-output", "released-input", "released-input-no-bias", "exported-output", "exported-input", "unmanaged-output", "unmanaged-input", "unmanaged-input-no-pull"}

// Fields an expectation may set, in the order reports show them.
var Fields = []string{"direction", "level", "drive", "pull", "owner", "consumer"}

// Builtin returns the rules shipped with gpiohil.
func Builtin() (*Rules, error) { return Parse("expectations.yaml", builtin) }

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
	var r Rules
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	r.File = file
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := r.check(&node); err != nil {
		return nil, err
	}
	return &r, nil
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

var (
	endings = map[string]bool{"exit": true, "sigint": true, "sigterm": true, "sigkill": true, "parent-death": true}
	values  = map[string]map[string]bool{
		"direction": {"input": true, "output": true},
		"level":     {"value": true, "pull": true, "0": true, "1": true},
		"drive":     {"driven": true, "pull": true},
		"pull":      {"bias": true, "bias-or-before": true, "before": true, "none": true},
		"owner":     {"free": true, "used": true},
		"consumer":  nil, // any name
	}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *Rules) check(root *yaml.Node) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", r.File, lineOf(root, key), fmt.Sprintf(format, args...))
	}
	for tool, actions := range r.Tools {
		for action, byEnding := range actions {
			for ending, outcome := range byEnding {
				if !endings[ending] {
					return bad(ending, "tool %s action %s: unknown ending %q; want exit, sigint, sigterm, sigkill or parent-death", tool, action, ending)
				}
				if !contains(Outcomes, outcome) {
					return bad(outcome, "tool %s action %s ending %s: unknown outcome %q; want one of %s", tool, action, ending, outcome, strings.Join(Outcomes, ", "))
				}
			}
		}
	}
	for _, p := range r.Platforms {
		if p.Name == "" || p.Match["driver"] == "" {
			return bad("platforms", "every platform needs a name and match.driver")
		}
		for k := range p.Match {
			if k != "driver" && k != "persist" {
				return bad(k, "platform %s: unknown match key %q; want driver or persist", p.Name, k)
			}
		}
		for outcome, fields := range p.Outcomes {
			if !contains(Outcomes, outcome) {
				return bad(outcome, "platform %s: unknown outcome %q; want one of %s", p.Name, outcome, strings.Join(Outcomes, ", "))
			}
			for f, v := range fields {
				allowed, ok := values[f]
				if !ok {
					return bad(f, "platform %s outcome %s: unknown field %q; want one of %s", p.Name, outcome, f, strings.Join(Fields, ", "))
				}
				if allowed != nil && !allowed[v] {
					return bad(v, "platform %s outcome %s: field %s cannot be %q", p.Name, outcome, f, v)
				}
			}
		}
	}
	return nil
}

// Case is what the suites ran.
type Case struct {
	Tool   string
	Action string
	Ending string // exit, sigint, sigterm, sigkill, parent-death
	Value  int    // the value the tool drove
	Bias   string // as-is, disabled, pull-up, pull-down
	Before string // the line's pull before the tool ran (observe.PullUp, PullDown, PullNone)
}

// Expectation is what should be observed: field -> value, in observe's vocabulary.
type Expectation struct {
	Platform string
	Outcome  string
	Fields   map[string]string
}

// ErrUnknown is matched by For's error when the rules do not cover a combination.
var ErrUnknown = errors.New("no known expectation")

// normPersist turns a module parameter's value into Y or N ("" when absent).
func normPersist(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "Y", "1", "TRUE":
		return "Y"
	case "N", "0", "FALSE":
		return "N"
	}
	return ""
}

// For returns the expectation for case c on platform p.
func (r *Rules) For(c Case, p observe.Platform) (Expectation, error) {
	outcome := r.Tools[c.Tool][c.Action][c.Ending]
	if outcome == "" {
		return Expectation{}, fmt.Errorf("%w: %s does not say what %s %s leaves behind when ended by %s", ErrUnknown, r.File, c.Tool, c.Action, c.Ending)
	}
	var plat *Platform
	for i := range r.Platforms {
		m := r.Platforms[i].Match
		if m["driver"] == p.Driver && (m["persist"] == "" || m["persist"] == normPersist(p.Persist)) {
			plat = &r.Platforms[i]
			break
		}
	}
	if plat == nil {
		return Expectation{}, fmt.Errorf("%w: %s has no platform for driver %q with persist_gpio_outputs %q", ErrUnknown, r.File, p.Driver, p.Persist)
	}
	rule, ok := plat.Outcomes[outcome]
	if !ok {
		return Expectation{}, fmt.Errorf("%w: %s: platform %s does not say what it does with a line %s", ErrUnknown, r.File, plat.Name, outcome)
	}
	e := Expectation{Platform: plat.Name, Outcome: outcome, Fields: map[string]string{}}
	pull := ""
	if v, ok := rule["pull"]; ok {
		pull = resolvePull(v, c)
		e.Fields["pull"] = pull
	} else {
		pull = resolvePull("bias", c)
	}
	for f, v := range rule {
		switch f {
		case "pull":
		case "level":
			e.Fields[f] = resolveLevel(v, c, pull)
		case "drive":
			e.Fields[f] = resolveDrive(v, pull)
		default:
			e.Fields[f] = v
		}
	}
	return e, nil
}

func resolvePull(rule string, c Case) string {
	switch rule {
	case "none":
		return observe.PullNone
	case "before":
		return c.Before
	case "bias", "bias-or-before":
		switch c.Bias {
		case "pull-up":
			return observe.PullUp
		case "pull-down":
			return observe.PullDown
		case "disabled":
			if rule == "bias" {
				return observe.PullNone
			}
		}
		return c.Before
	}
	return rule
}

func resolveLevel(rule string, c Case, pull string) string {
	switch rule {
	case "value":
		return fmt.Sprint(c.Value)
	case "pull":
		switch pull {
		case observe.PullUp:
			return "1"
		case observe.PullDown:
			return "0"
		}
		return observe.Unknown // a floating line has no level to expect
	}
	return rule
}

func resolveDrive(rule, pull string) string {
	if rule != "pull" {
		return rule
	}
	if pull == observe.PullNone {
		return observe.Floating
	}
	return observe.Pulled
}

// Check compares an observation with the expectation. It returns the mismatches, one line each,
// and the expected fields that were not checked because the bench cannot see them.
func (e Expectation) Check(o observe.Observation) (mismatches, unchecked []string) {
	got := map[string]string{"direction": o.Direction, "level": o.Level, "drive": o.Drive, "pull": o.Pull, "owner": o.Owner, "consumer": o.Consumer}
	can := map[string]string{"direction": observe.CanDirection, "level": observe.CanLevel, "drive": observe.CanDrive, "pull": observe.CanPull, "owner": observe.CanOwner, "consumer": observe.CanOwner}
	for _, f := range Fields {
		want, ok := e.Fields[f]
		if !ok || want == observe.Unknown {
			continue
		}
		if !o.Has(can[f]) {
			unchecked = append(unchecked, f)
			continue
		}
		if got[f] != want {
			mismatches = append(mismatches, fmt.Sprintf("%s: got %s, want %s", f, got[f], want))
		}
	}
	sort.Strings(unchecked)
	return mismatches, unchecked
}

// String is the expected state in the words of observe.Observation.State.
func (e Expectation) String() string {
	var parts []string
	for _, f := range Fields {
		if v, ok := e.Fields[f]; ok {
			parts = append(parts, f+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
