// Package ginkgoreport converts a Ginkgo report into gpiohil's JUnit (package junit): only It
// specs become test cases, a failure marked with junit.InfrastructureEntry becomes an error,
// a skip keeps its reason (a spec marked junit.OtherShardEntry is left to its shard's report),
// and each spec's gpiohil-result report entry goes to its system-out.
package ginkgoreport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

func seconds(d float64) string { return fmt.Sprintf("%.3f", d) }

// hasEntry reports whether the spec carries a report entry of this name.
func hasEntry(spec types.SpecReport, name string) bool {
	for _, e := range spec.ReportEntries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// Convert converts a Ginkgo report. Only It specs become test cases; a failing suite
// setup node becomes an error case so it is not lost.
func Convert(r types.Report, name string, props []junit.Property) junit.Suites {
	var cases []junit.Case
	for _, spec := range r.SpecReports {
		if c, ok := Case(spec); ok {
			cases = append(cases, c)
		}
	}
	return junit.Build(name, props, cases, r.SuitePath, r.RunTime.Seconds(), r.StartTime)
}

// Classname is a case's classname from its spec's labels, so that CI front-ends (GitHub,
// GitLab, Jenkins) group the cases by suite and tool: gpiohil.persistence.libgpiod-v1, or
// gpiohil.cleanup, or gpiohil for a suite-level node.
func Classname(labels []string) string {
	name := junit.ClassnameRoot
	for _, s := range vocab.Suites {
		if slices.Contains(labels, string(s)) {
			name += "." + string(s)
			break
		}
	}
	for _, l := range labels {
		if tool, ok := strings.CutPrefix(l, "tool:"); ok {
			return name + "." + tool
		}
	}
	return name
}

// Case converts one spec's report into a test case, its classname from its labels
// (Classname); ok is false for a spec that is not part of this report: a setup node that
// passed, a spec a filter left out, another shard's spec.
func Case(spec types.SpecReport) (c junit.Case, ok bool) {
	if spec.LeafNodeType != types.NodeTypeIt && !spec.State.Is(types.SpecStateFailureStates) {
		return c, false
	}
	if spec.State == types.SpecStateSkipped && spec.Failure.Message == "" && len(spec.ReportEntries) == 0 {
		return c, false // filtered out by a label filter or focus: not part of this run
	}
	if spec.State == types.SpecStateSkipped && hasEntry(spec, junit.OtherShardEntry) {
		return c, false // another shard's: in its report
	}
	c = junit.Case{Name: spec.FullText(), Classname: Classname(spec.Labels()), Time: seconds(spec.RunTime.Seconds())}
	if spec.LeafNodeType != types.NodeTypeIt {
		c.Name = fmt.Sprintf("[%s] %s", spec.LeafNodeType, spec.FullText())
	}
	var out []string
	for _, e := range spec.ReportEntries {
		if e.Name == junit.ResultEntry {
			out = append(out, junit.ResultEntry+": "+e.StringRepresentation())
		}
	}
	if spec.CapturedStdOutErr != "" {
		out = append(out, spec.CapturedStdOutErr)
	}
	c.SystemOut = strings.Join(out, "\n")
	msg := spec.Failure.Message
	detail := ""
	if !spec.Failure.IsZero() {
		detail = fmt.Sprintf("%s\n%s", spec.Failure.Location, spec.Failure.Message)
	}
	switch {
	case spec.State == types.SpecStateSkipped:
		c.Skipped = &junit.Message{Message: strings.TrimSpace(msg)}
	case spec.State == types.SpecStatePending:
		c.Skipped = &junit.Message{Message: "pending"}
	case spec.State.Is(types.SpecStateFailureStates) && hasEntry(spec, junit.InfrastructureEntry):
		c.Error = &junit.Message{Message: msg, Type: "infrastructure", Text: detail}
	case spec.State == types.SpecStatePanicked:
		c.Error = &junit.Message{Message: spec.Failure.ForwardedPanic, Type: "panicked", Text: detail}
	case spec.State == types.SpecStateInterrupted:
		c.Error = &junit.Message{Message: msg, Type: "interrupted", Text: detail}
	case spec.State.Is(types.SpecStateFailureStates):
		c.Failure = &junit.Message{Message: msg, Type: spec.State.String(), Text: detail}
	}
	return c, true
}
