package profile

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"go.yaml.in/yaml/v3"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/harness/yamlcheck"
)

// Load reads and checks the profile file at path.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return Parse(path, data)
}

// Parse checks the profile in data; file names it in error messages. Every
// problem in the file is an *[Error] with its position.
func Parse(file string, data []byte) (*Profile, error) {
	root, err := yamlcheck.Parse(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &Error{File: file, Line: 1,
			Msg: "empty profile; want a mapping with name, description, requires and actions"}
	}
	d := &decoder{file: file, commands: map[vocab.Action][]*yaml.Node{}, host: map[string][]*yaml.Node{}}
	return d.profile(root)
}

var (
	nameRE         = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	templateErrRE  = regexp.MustCompile(`^template: t:(\d+):(?:\d+:)?\s*(?:executing "t" )?(.*)$`)
	hostVarNames   = []string{"Self"}
	actionVarNames = func() []string {
		t := reflect.TypeFor[templateData]()
		names := make([]string, t.NumField())
		for i := range names {
			names[i] = t.Field(i).Name
		}
		return names
	}()
	// sample is what commands are rendered with at load time to catch
	// templates that parse but fail to execute.
	sample = templateData{Self: "/usr/bin/gpiohil", Chip: "/dev/gpiochip0", ChipName: "gpiochip0",
		ChipLabel: "gpio-sim.0-node0", Line: "GPIO17", Offset: 17, SysfsNumber: 529}
)

// decoder walks the YAML node tree of one file, checking as it goes.
type decoder struct {
	file     string
	commands map[vocab.Action][]*yaml.Node // command element nodes, for late checks
	host     map[string][]*yaml.Node       // requires, check-command, version-command element nodes
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) error {
	return yamlcheck.Decoder{File: d.file}.Errf(n, format, args...)
}

// errAt reports a problem at byte offset off inside scalar n. The line is
// exact for plain, quoted and literal (|) scalars; the column only for
// single-line ones.
func (d *decoder) errAt(n *yaml.Node, off int, format string, args ...any) error {
	e := &Error{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
	if off < 0 || off > len(n.Value) {
		return e
	}
	before := n.Value[:off]
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		e.Line += 1 + strings.Count(before, "\n")
		e.Column = 0
	case n.Style&yaml.FoldedStyle != 0 || strings.Contains(before, "\n"):
		// Only the start of the scalar is certain.
	default:
		e.Column += off
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			e.Column++
		}
	}
	return e
}

// field is one key a mapping may hold and how to decode its value.
type field = yamlcheck.Field

// fields walks mapping n, called what in messages and found at key at (nil for the top
// level), and decodes each key with its field.
func (d *decoder) fields(n *yaml.Node, what string, at *yaml.Node, fs []field) error {
	return yamlcheck.Decoder{File: d.file}.Fields(n, what, at, fs)
}

func (d *decoder) profile(root *yaml.Node) (*Profile, error) {
	p := &Profile{File: d.file, Access: AccessKernel, BiasWords: map[vocab.Bias]string{}, Actions: map[vocab.Action]*Action{}}
	var matchNode *yaml.Node
	err := d.fields(root, "profile", nil, []field{
		{Key: "name", Required: true, Decode: func(v *yaml.Node) (err error) {
			if p.Name, err = d.str(v, "name"); err == nil && !nameRE.MatchString(p.Name) {
				err = d.errf(v, "name %q must be lowercase letters and digits, joined by single dashes", p.Name)
			}
			return err
		}},
		{Key: "description", Required: true, Decode: func(v *yaml.Node) (err error) {
			p.Description, err = d.str(v, "description")
			return err
		}},
		{Key: "install-hint", Required: false, Decode: func(v *yaml.Node) (err error) {
			p.InstallHint, err = d.str(v, "install-hint")
			return err
		}},
		{Key: "requires", Required: true, Decode: func(v *yaml.Node) (err error) {
			p.Requires, p.host.requires, d.host["requires"], err = d.argv(v, "requires", hostVarNames)
			return err
		}},
		{Key: "check-command", Required: false, Decode: func(v *yaml.Node) (err error) {
			p.CheckCommand, p.host.check, d.host["check-command"], err = d.argv(v, "check-command", hostVarNames)
			return err
		}},
		{Key: "version-command", Required: false, Decode: func(v *yaml.Node) (err error) {
			p.VersionCommand, p.host.version, d.host["version-command"], err = d.argv(v, "version-command", hostVarNames)
			return err
		}},
		{Key: "version-match", Required: false, Decode: func(v *yaml.Node) (err error) {
			matchNode = v
			if p.VersionMatch, err = d.str(v, "version-match"); err != nil {
				return err
			}
			if p.versionRE, err = regexp.Compile(p.VersionMatch); err != nil {
				return d.errf(v, "version-match %q is not a valid regexp: %v", p.VersionMatch, err)
			}
			return nil
		}},
		{Key: "bench-kinds", Required: false, Decode: func(v *yaml.Node) (err error) {
			p.BenchKinds, err = enumList(d, v, "bench kind", "in bench-kinds", vocab.BenchKinds)
			return err
		}},
		{Key: "access", Required: false, Decode: func(v *yaml.Node) (err error) {
			p.Access, err = enum(d, v, "access", "", Accesses)
			return err
		}},
		{Key: "bias-words", Required: false, Decode: func(v *yaml.Node) error { return d.biasWords(p, v) }},
		{Key: "actions", Required: true, Decode: func(v *yaml.Node) error { return d.actions(p, v) }},
		{Key: "expect", Required: false, Decode: func(v *yaml.Node) error { return d.expect(p, v) }},
	})
	if err != nil {
		return nil, err
	}
	if matchNode != nil && p.VersionCommand == nil {
		return nil, d.errf(matchNode, "version-match needs a version-command to run")
	}
	if err := d.renderHost(p); err != nil {
		return nil, err
	}
	for _, name := range p.Names() {
		if err := d.renderAction(p, p.Actions[name]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// expect reads what the tool's actions leave behind, per ending: the same words as the tools
// table of suites/expect/expectations.yaml.
func (d *decoder) expect(p *Profile, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "expect must be a mapping from action to {ending: outcome}, got %s", describe(n))
	}
	p.Expect = map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		action, err := enum(d, k, "action", "in expect", vocab.Actions)
		if err != nil {
			return err
		}
		if _, dup := p.Expect[action]; dup {
			return d.errf(k, "duplicate action %q in expect", action)
		}
		if v.Kind != yaml.MappingNode {
			return d.errf(v, "expect of %s must be a mapping from ending to outcome, got %s", action, describe(v))
		}
		p.Expect[action] = map[vocab.Ending]vocab.Outcome{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ek, ev := v.Content[j], deref(v.Content[j+1])
			word, err := enum(d, ek, "ending", "in expect of "+string(action), vocab.Words(vocab.Endings))
			if err != nil {
				return err
			}
			ending, _ := vocab.ParseEnding(word)
			if _, dup := p.Expect[action][ending]; dup {
				return d.errf(ek, "duplicate ending %q in expect of %s", word, action)
			}
			if p.Expect[action][ending], err = enum(d, ev, "outcome", fmt.Sprintf("for %s in expect of %s", word, action), vocab.Outcomes); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *decoder) biasWords(p *Profile, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "bias-words must be a mapping from bias to the tool's word, got %s", describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		b, err := enum(d, k, "bias", "in bias-words", vocab.Biases)
		if err != nil {
			return err
		}
		if _, dup := p.BiasWords[b]; dup {
			return d.errf(k, "duplicate bias %q in bias-words", b)
		}
		if p.BiasWords[b], err = d.str(v, fmt.Sprintf("the word for %s in bias-words", b)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) actions(p *Profile, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "actions must be a mapping from action name to action, got %s", describe(n))
	}
	if len(n.Content) == 0 {
		return d.errf(n, "actions is empty; want at least one of: %s", joinAny(vocab.Actions))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		name, err := enum(d, k, "action", "", vocab.Actions)
		if err != nil {
			return err
		}
		if prev := p.Actions[name]; prev != nil {
			return d.errf(k, "duplicate action %q (first at line %d)", name, prev.Line)
		}
		if p.Actions[name], err = d.action(name, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) action(name vocab.Action, key, n *yaml.Node) (*Action, error) {
	alwaysHolds := name == vocab.Hold || name == vocab.HoldCleanup
	a := &Action{Name: name, Line: key.Line, Holds: alwaysHolds, SupportsBias: []vocab.Bias{vocab.BiasAsIs},
		Promises: Promises{AfterExit: Unspecified, AfterSignal: Unspecified, AfterKill: Unspecified}}
	what := fmt.Sprintf("action %q", name)
	err := d.fields(n, what, key, []field{
		{Key: "command", Required: true, Decode: func(v *yaml.Node) (err error) {
			a.Command, a.templates, d.commands[name], err = d.argv(v, "command of "+what, actionVarNames)
			return err
		}},
		{Key: "holds", Required: false, Decode: func(v *yaml.Node) (err error) {
			if a.Holds, err = d.boolean(v, "holds in "+what); err == nil && alwaysHolds && !a.Holds {
				err = d.errf(v, "%s always holds the line; remove \"holds: false\"", what)
			}
			return err
		}},
		{Key: "supports-bias", Required: false, Decode: func(v *yaml.Node) (err error) {
			if a.SupportsBias, err = enumList(d, v, "bias", "in supports-bias of "+what, vocab.Biases); err == nil && len(a.SupportsBias) == 0 {
				err = d.errf(v, "supports-bias of %s is empty; want at least as-is", what)
			}
			return err
		}},
		{Key: "ready", Required: false, Decode: func(v *yaml.Node) (err error) {
			if a.Ready, err = d.str(v, "ready in "+what); err == nil && a.Ready == "" {
				err = d.errf(v, "ready in %s is empty; remove it if the tool prints nothing", what)
			}
			return err
		}},
		{Key: "promises", Required: false, Decode: func(v *yaml.Node) error { return d.promises(&a.Promises, what, key, v) }},
	})
	return a, err
}

func (d *decoder) promises(ps *Promises, what string, key, n *yaml.Node) error {
	promise := func(dst *Promise, k string) field {
		return field{Key: k, Required: false, Decode: func(v *yaml.Node) (err error) {
			*dst, err = enum(d, v, "promise", fmt.Sprintf("for %s in %s", k, what), PromiseValues)
			return err
		}}
	}
	return d.fields(n, "promises of "+what, key, []field{
		promise(&ps.AfterExit, "after-exit"),
		promise(&ps.AfterSignal, "after-signal"),
		promise(&ps.AfterKill, "after-kill"),
		{Key: "source", Required: false, Decode: func(v *yaml.Node) (err error) {
			ps.Source, err = d.str(v, "source in promises of "+what)
			return err
		}},
	})
}

// argv decodes a non-empty list of template strings that may use known variables.
func (d *decoder) argv(n *yaml.Node, what string, known []string) ([]string, []*template.Template, []*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, nil, nil, d.errf(n, "%s must be a list of strings, got %s", what, describe(n))
	}
	if len(n.Content) == 0 {
		return nil, nil, nil, d.errf(n, "%s is empty; want at least a program", what)
	}
	var (
		strs  []string
		ts    []*template.Template
		nodes []*yaml.Node
	)
	for i, e := range n.Content {
		e = deref(e)
		s, err := d.str(e, fmt.Sprintf("element %d of %s", i+1, what))
		if err != nil {
			return nil, nil, nil, err
		}
		t, err := d.template(e, what, known)
		if err != nil {
			return nil, nil, nil, err
		}
		strs, ts, nodes = append(strs, s), append(ts, t), append(nodes, e)
	}
	return strs, ts, nodes, nil
}

func (d *decoder) template(n *yaml.Node, what string, known []string) (*template.Template, error) {
	t, err := template.New("t").Parse(n.Value)
	if err != nil {
		return nil, d.templateErr(n, what, err)
	}
	if name, pos := unknownField(t.Root, known, true); name != "" {
		return nil, d.errAt(n, int(pos), "unknown variable .%s in %s; known variables: %s",
			name, what, strings.Join(known, ", "))
	}
	return t, nil
}

// templateErr turns a parse or execution error of template "t" made from
// scalar n into an *Error at the template's line.
func (d *decoder) templateErr(n *yaml.Node, what string, err error) error {
	m := templateErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return d.errf(n, "bad template in %s: %v", what, err)
	}
	line, _ := strconv.Atoi(m[1])
	off := 0
	for ; line > 1; line-- {
		off += strings.IndexByte(n.Value[off:], '\n') + 1
	}
	return d.errAt(n, off, "bad template in %s: %s", what, m[2])
}

// unknownField returns the first field of the template data that is not in
// known, and its position. dotIsVars says whether dot is still the Vars:
// inside with and range it is not, and only $.Field can be checked there.
func unknownField(n parse.Node, known []string, dotIsVars bool) (string, parse.Pos) {
	check := func(nodes ...parse.Node) (string, parse.Pos) {
		for _, c := range nodes {
			if name, pos := unknownField(c, known, dotIsVars); name != "" {
				return name, pos
			}
		}
		return "", 0
	}
	branch := func(b *parse.BranchNode) (string, parse.Pos) {
		if name, pos := check(b.Pipe, b.ElseList); name != "" {
			return name, pos
		}
		return unknownField(b.List, known, false)
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			return check(n.Nodes...)
		}
	case *parse.ActionNode:
		return check(n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				if name, pos := check(c.Args...); name != "" {
					return name, pos
				}
			}
		}
	case *parse.ChainNode:
		return check(n.Node)
	case *parse.FieldNode:
		if dotIsVars && !slices.Contains(known, n.Ident[0]) {
			return n.Ident[0], n.Pos
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 && !slices.Contains(known, n.Ident[1]) {
			return n.Ident[1], n.Pos
		}
	case *parse.IfNode:
		if name, pos := check(n.Pipe, n.List, n.ElseList); name != "" {
			return name, pos
		}
	case *parse.WithNode:
		return branch(&n.BranchNode)
	case *parse.RangeNode:
		return branch(&n.BranchNode)
	case *parse.TemplateNode:
		return check(n.Pipe)
	}
	return "", 0
}

// renderHost renders requires, check-command and version-command once with
// a sample, so that a template failing at run time fails at load time instead.
func (d *decoder) renderHost(p *Profile) error {
	keys := []string{"requires", "check-command", "version-command"}
	for i, ts := range [][]*template.Template{p.host.requires, p.host.check, p.host.version} {
		if err := d.renderArgv(ts, d.host[keys[i]], keys[i], sample); err != nil {
			return err
		}
	}
	return nil
}

// renderAction renders the command of a for every supported bias and both
// values, so that a template failing at run time fails at load time instead.
func (d *decoder) renderAction(p *Profile, a *Action) error {
	for _, b := range a.SupportsBias {
		for value := range 2 {
			v := sample
			v.Value, v.Bias = value, p.biasWord(b)
			what := fmt.Sprintf("command of action %q (bias %s, value %d)", a.Name, b, value)
			if err := d.renderArgv(a.templates, d.commands[a.Name], what, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// renderArgv executes the templates made from nodes with v; the first one,
// the program, must not render empty.
func (d *decoder) renderArgv(ts []*template.Template, nodes []*yaml.Node, what string, v templateData) error {
	for i, t := range ts {
		var out strings.Builder
		if err := t.Execute(&out, v); err != nil {
			return d.templateErr(nodes[i], what, err)
		}
		if i == 0 && out.Len() == 0 {
			return d.errf(nodes[0], "the program in %s renders empty", what)
		}
	}
	return nil
}

func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = "; quote it"
		}
		return "", d.errf(n, "%s must be a string, got %s%s", what, describe(n), hint)
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, d.errf(n, "%s must be true or false, got %s", what, describe(n))
	}
	return b, nil
}

// enum decodes a string that must be one of known. noun and where make the
// message: unknown bias "pullup" in supports-bias of action "hold".
func enum[T ~string](d *decoder, n *yaml.Node, noun, where string, known []T) (T, error) {
	if where != "" {
		where = " " + where
	}
	s, err := d.str(n, noun+where)
	if err != nil {
		return "", err
	}
	if !slices.Contains(known, T(s)) {
		return "", d.errf(n, "unknown %s %q%s; want one of: %s", noun, s, where, joinAny(known))
	}
	return T(s), nil
}

func enumList[T ~string](d *decoder, n *yaml.Node, noun, where string, known []T) ([]T, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, "%s must be a list, got %s", strings.TrimPrefix(where, "in "), describe(n))
	}
	var out []T
	for _, e := range n.Content {
		v, err := enum(d, deref(e), noun, where, known)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, v) {
			return nil, d.errf(e, "duplicate %s %q %s", noun, v, where)
		}
		out = append(out, v)
	}
	return out, nil
}

var (
	deref    = yamlcheck.Deref
	describe = yamlcheck.Describe
)
