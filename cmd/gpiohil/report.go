package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/suites"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/report"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

// reportUsage is gpiohil report's help, before its flags.
const reportUsage = `usage: gpiohil report [--md FILE] [--html FILE] [--json FILE] [--answer] [--baseline OLD]... JUNIT...
       gpiohil report --flips JUNIT...
       gpiohil report --expected-skips LIST JUNIT...
  the semantics matrix from gpiohil's JUnit reports, one per board or lane: the answer per tool
  and platform, then a grid per platform; with no output flag, Markdown on stdout.
  --baseline prints what changed against earlier reports and exits 1 when anything did.

flags:`

// reportCmd is `gpiohil report`: the semantics matrix, its checks, and what changed.
func reportCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil report", flag.ContinueOnError)
	md := fs.String("md", "", "write the matrix as Markdown here")
	html := fs.String("html", "", "write the matrix as a self-contained HTML page here")
	answer := fs.Bool("answer", false, "print the answer, a line per tool and platform, on stdout")
	flips := fs.Bool("flips", false, "instead of the matrix: change each tool outcome of the expectations in turn, judge the recorded observations again, and fail (exit 1) if a change fails no spec where the cells claim they could tell")
	var ruleFiles listFlag
	fs.Var(&ruleFiles, "expectations", "expectations files the run added to the built-in ones (for --flips and the predictions of tools not measured)")
	onlyExpect := fs.Bool("no-builtin-expectations", false, "the run used only its --expectations files")
	skips := fs.String("expected-skips", "", "instead of the matrix: check the reports against this list of expected skips (ci/expected-skips.yaml); exit 1 on any other skip, a spec without a known expectation, or a tool that ran no spec")
	data := addDataFlags(fs) // --json, --baseline: report_data.go
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), reportUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, usagef("gpiohil report: no JUnit files given")
	}
	if err := checkReports(fs.Args()); err != nil {
		return 0, err
	}
	rules, err := suites.Rules(runenv.Run{Expectations: ruleFiles, OnlyExpect: *onlyExpect}, nil)
	if err != nil {
		return 0, usageError{msg: "gpiohil report: " + err.Error(), cmd: "gpiohil report"}
	}
	switch {
	case *flips:
		return flipCmd(fs.Args(), rules, stdout)
	case *skips != "":
		return skipsCmd(fs.Args(), *skips, stdout)
	}
	m, err := report.FromFiles(fs.Args())
	if err != nil {
		return 1, err
	}
	outs := []struct {
		path  string
		write func(io.Writer) error
	}{
		{*md, func(w io.Writer) error { return m.MarkdownWith(w, rules) }},
		{*html, func(w io.Writer) error { return m.HTMLWith(w, rules) }},
	}
	for _, out := range outs {
		if err := writeFile(out.path, out.write); err != nil {
			return 1, err
		}
	}
	if *answer {
		m.WriteAnswers(stdout, rules, false)
	}
	if data.wanted() {
		return data.run(fs.Args(), stdout)
	}
	if *md == "" && *html == "" && !*answer {
		return 0, m.MarkdownWith(stdout, rules)
	}
	return 0, nil
}

// checkReports refuses, as a usage error (exit 2), a file that is not a gpiohil JUnit report:
// an HTML page, an empty file or go test's JUnit would otherwise make an empty column, or a
// check that passes on nothing.
func checkReports(files []string) error {
	for _, f := range files {
		if _, err := junit.CheckReport(f); err != nil {
			return usageError{msg: "gpiohil report: " + err.Error(), cmd: "gpiohil report"}
		}
	}
	return nil
}

// flipCmd is `gpiohil report --flips JUNIT...`: proof that every tool outcome is load-bearing.
func flipCmd(files []string, rules *expect.Rules, stdout io.Writer) (int, error) {
	lanes, err := report.Lanes(files)
	if err != nil {
		return exitUsage, err
	}
	rep := verdict.CheckFlips(rules, lanes)
	rep.Write(stdout)
	if err := rep.Err(); err != nil {
		return 1, err
	}
	return 0, nil
}

// skipsCmd is `gpiohil report --expected-skips FILE JUNIT...`: nothing went missing.
func skipsCmd(files []string, list string, stdout io.Writer) (int, error) {
	e, err := report.LoadExpectedSkips(list)
	if err != nil {
		return exitUsage, err
	}
	problems, err := e.Check(files)
	if err != nil {
		return exitUsage, err
	}
	if len(problems) > 0 {
		return 1, fmt.Errorf("%d problems against %s:\n  %s", len(problems), list, strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(stdout, "gpiohil report: every skip in %s is expected (%s)\n", strings.Join(files, ", "), list)
	return 0, nil
}
