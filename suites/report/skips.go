package report

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/harness/yamlcheck"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// ExpectedSkips says, per lane (a JUnit test suite, named by its column title), which tools a
// run there is expected to skip and why (a part of the skip reason). CI holds every run to
// it: a skip it does not list, a spec without a known expectation, and a tool that ran no
// spec at all are each a problem, so nothing can go missing from the matrix while CI stays
// green.
type ExpectedSkips struct {
	File  string
	Lanes map[string]map[string]string // lane title -> tool -> part of the reason
}

// LoadExpectedSkips reads an expected-skips file:
//
//	gpio-sim:
//	  rpi-gpio: is for benches rpi
//	  libgpiod-v2: want one matching / v2\./
func LoadExpectedSkips(path string) (*ExpectedSkips, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	root, err := yamlcheck.Parse(path, data)
	if err != nil {
		return nil, err
	}
	e := &ExpectedSkips{File: path, Lanes: map[string]map[string]string{}}
	if root == nil {
		return e, nil
	}
	d := yamlcheck.Decoder{File: path}
	if root.Kind != yaml.MappingNode {
		return nil, d.Errf(root, "want a mapping from lane title to tools and reasons")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		lane, tools := root.Content[i], yamlcheck.Deref(root.Content[i+1])
		if tools.Kind != yaml.MappingNode {
			return nil, d.Errf(tools, "lane %q: want a mapping from tool to a part of its skip reason", lane.Value)
		}
		e.Lanes[lane.Value] = map[string]string{}
		for j := 0; j+1 < len(tools.Content); j += 2 {
			tool, reason := tools.Content[j], tools.Content[j+1]
			if reason.Kind != yaml.ScalarNode || reason.Value == "" {
				return nil, d.Errf(reason, "lane %q tool %s: want a part of the skip reason", lane.Value, tool.Value)
			}
			e.Lanes[lane.Value][tool.Value] = reason.Value
		}
	}
	return e, nil
}

// Check reads JUnit reports and returns every problem: a lane the file does not list, a
// skip it does not expect, a spec without a known expectation, a listed skip that did not
// happen (the list is stale), a tool that ran no spec.
func (e *ExpectedSkips) Check(paths []string) ([]string, error) {
	var problems []string
	for _, p := range paths {
		doc, err := junit.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, s := range doc.Suites {
			problems = append(problems, e.checkLane(p, s)...)
		}
	}
	return problems, nil
}

func (e *ExpectedSkips) checkLane(file string, s junit.Suite) []string {
	title := ColumnTitle(s)
	want, ok := e.Lanes[title]
	if !ok {
		return []string{fmt.Sprintf("%s: lane %q is not in %s; add it with the skips it expects", file, title, e.File)}
	}
	var tools []string
	for _, pr := range s.Properties {
		if name, ok := strings.CutPrefix(pr.Name, "tool:"); ok {
			tools = append(tools, name)
		}
	}
	var problems []string
	ran, skipped := map[string]bool{}, map[string]bool{}
	for _, c := range s.Cases {
		tool := caseTool(c, tools)
		for _, r := range c.Results() {
			switch r.Verdict {
			case vocab.VerdictUnknown:
				problems = append(problems, fmt.Sprintf("%s: %s: no known expectation: %s", title, c.Name, r.Note))
			case vocab.Met, vocab.MetIndistinct, vocab.NotMet:
				ran[tool] = true
			}
		}
		if c.Skipped == nil || slices.ContainsFunc(c.Results(), func(r junit.Result) bool { return r.Verdict == vocab.VerdictUnknown }) {
			continue
		}
		reason := c.Skipped.Message
		if part, ok := want[tool]; ok && tool != "" && strings.Contains(reason, part) {
			skipped[tool] = true
			continue
		}
		problems = append(problems, fmt.Sprintf("%s: %s: skipped, which %s does not expect: %s", title, c.Name, e.File, reason))
	}
	for _, tool := range tools {
		_, expected := want[tool]
		switch {
		case expected && !skipped[tool]:
			problems = append(problems, fmt.Sprintf("%s: %s does not skip %s any more; take it off the list in %s", title, tool, e.File, e.File))
		case !expected && !ran[tool]:
			problems = append(problems, fmt.Sprintf("%s: %s ran no spec with a verdict", title, tool))
		}
	}
	return problems
}

// caseTool finds which of the lane's tools a case belongs to: its result's, or the tool its
// name holds ("cleanup libgpiod-v1 cleanup ended by exit touches only ..."); "" for none.
func caseTool(c junit.Case, tools []string) string {
	if rs := c.Results(); len(rs) > 0 {
		return rs[len(rs)-1].Tool
	}
	best := ""
	for _, t := range tools {
		if strings.Contains(" "+c.Name+" ", " "+t+" ") && len(t) > len(best) {
			best = t
		}
	}
	return best
}
