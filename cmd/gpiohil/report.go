package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gpiohil/gpiohil/suites/report"
)

// reportCmd is `gpiohil report [--md FILE] [--html FILE] JUNIT...`: the semantics matrix.
func reportCmd(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpiohil report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.String("md", "", "write Markdown here (default: stdout, when --html is not given)")
	html := fs.String("html", "", "write a self-contained HTML page here")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gpiohil report [--md FILE] [--html FILE] JUNIT...\n  one JUnit file per board or lane; each becomes a column of the matrix")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 0, parseError(err)
	}
	if fs.NArg() == 0 {
		return 0, usagef("gpiohil report: no JUnit files given")
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
