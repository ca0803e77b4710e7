package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gpiohil/gpiohil/suites/report"
)

// dataFlags are gpiohil report's --json and --baseline: the matrix as data, and what changed
// since a previous run.
type dataFlags struct {
	json     string
	baseline fileList
}

// fileList is a flag given once per file.
type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, " ") }
func (l *fileList) Set(v string) error { *l = append(*l, v); return nil }

func addDataFlags(fs *flag.FlagSet) *dataFlags {
	d := &dataFlags{}
	fs.StringVar(&d.json, "json", "", "write the matrix as JSON to `FILE` (build/semantics.json; its keys: go doc github.com/gpiohil/gpiohil/suites/report.Document)")
	fs.Var(&d.baseline, "baseline", "compare with a previous run's report `OLD`, a gpiohil JUnit report or a --json file, the flag once per file (a board or lane each); print every cell whose observed state or verdict changed, and the cells and platforms found on one side only; exit 1 if anything changed, 0 if nothing did, 2 if a file is unusable. The matrix then goes only to the files --md, --html, --json name")
	return d
}

// wanted reports whether either flag was given; then run handles the command.
func (d *dataFlags) wanted() bool { return d.json != "" || len(d.baseline) > 0 }

// run is the --json and --baseline part of `gpiohil report`: the matrix as data to the file
// named, then, with --baseline, the changes on stdout.
func (d *dataFlags) run(files []string, stdout io.Writer) (int, error) {
	var old *report.Document
	if len(d.baseline) > 0 {
		var err error
		if old, err = report.LoadBaseline(d.baseline); err != nil {
			return exitUsage, usageError{msg: "gpiohil report: --baseline: " + err.Error(), cmd: "gpiohil report"}
		}
	}
	doc, err := report.DocumentFromFiles(files)
	if err != nil {
		return 1, err
	}
	if err := writeFile(d.json, doc.WriteJSON); err != nil {
		return 1, err
	}
	if old == nil {
		return 0, nil
	}
	cmp := report.Compare(old, doc)
	cmp.Baseline = strings.Join(d.baseline, ", ")
	if err := cmp.Write(stdout); err != nil {
		return 1, err
	}
	if cmp.Changed() {
		return 1, nil
	}
	return 0, nil
}

// writeFile writes path with write; nothing when path is "".
func writeFile(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create the report file: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
