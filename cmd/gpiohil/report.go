package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/report"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

// reportCmd is `gpiohil report [--md FILE] [--html FILE] JUNIT...`: the semantics matrix.
func reportCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.String("md", "", "write Markdown here (default: stdout, when --html is not given)")
	html := fs.String("html", "", "write a self-contained HTML page here")
	flips := fs.Bool("flips", false, "instead of the matrix: change each tool outcome of the expectations in turn, judge the recorded observations again, and fail (exit 1) if a change fails no spec where the cells claim they could tell")
	rulesFile := fs.String("expectations", "", "with --flips: the expectations the run used (default: the built-in ones)")
	skips := fs.String("expected-skips", "", "instead of the matrix: check the reports against this list of expected skips (ci/expected-skips.yaml); exit 1 on any other skip, a spec without a known expectation, or a tool that ran no spec")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil report [--md FILE] [--html FILE] JUNIT...\n  one JUnit file per board or lane; each becomes a column of the matrix")
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
	if *flips {
		return flipCmd(fs.Args(), *rulesFile, stdout)
	}
	if *skips != "" {
		return skipsCmd(fs.Args(), *skips, stdout)
	}
	m, err := report.FromFiles(fs.Args())
	if err != nil {
		return 1, err
	}
	if *md == "" && *html == "" {
		return 0, m.Markdown(stdout)
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*md, m.Markdown}, {*html, m.HTML}} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			return 1, err
		}
		if err := out.write(f); err != nil {
			f.Close()
			return 1, err
		}
		if err := f.Close(); err != nil {
			return 1, err
		}
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
func flipCmd(files []string, rulesFile string, stdout io.Writer) (int, error) {
	rules, err := expect.Builtin()
	if rulesFile != "" {
		rules, err = expect.Load(rulesFile)
	}
	if err != nil {
		return exitUsage, err
	}
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
