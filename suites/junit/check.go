package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReportProps are the properties every gpiohil report's test suite carries (the suites write
// them from the bench they ran on; gpiohil run writes them for a lane that did not finish):
// what tells a gpiohil report from any other JUnit file.
var ReportProps = []string{"bench", "kernel"}

// CheckReport reads path and makes sure it is a gpiohil JUnit report: XML whose root element
// is <testsuites> or <testsuite>, with at least one <testsuite> carrying ReportProps, and
// returns it as ReadFile would. ReadFile takes any XML (an HTML page reads as a suite without
// cases); the error of CheckReport names the file and what is missing.
func CheckReport(path string) (Suites, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Suites{}, fmt.Errorf("read the JUnit report: %w", err)
	}
	s, err := decodeReport(b)
	if err == nil {
		err = s.Check()
	}
	if err != nil {
		return Suites{}, fmt.Errorf("%s is not a gpiohil JUnit report: %w", path, err)
	}
	return s, nil
}

// decodeReport decodes a JUnit file whose root is <testsuites> or a single <testsuite>.
func decodeReport(b []byte) (Suites, error) {
	root, err := rootElement(b)
	if err != nil {
		return Suites{}, err
	}
	var s Suites
	if root == "testsuite" {
		var one Suite
		err = xml.Unmarshal(b, &one)
		s.Suites = []Suite{one}
	} else {
		err = xml.Unmarshal(b, &s)
	}
	if err != nil {
		return Suites{}, fmt.Errorf("it is not XML (%v)", err)
	}
	return s, nil
}

// Check says what s lacks to be a gpiohil report: a test suite, or one with ReportProps.
func (s Suites) Check() error {
	want := strings.Join(ReportProps, " and ")
	switch {
	case len(s.Suites) == 0:
		return errors.New("it has no <testsuite>")
	case len(s.Suites) == 1:
		if missing := s.Suites[0].missingProps(); len(missing) > 0 {
			return fmt.Errorf("its <testsuite> lacks gpiohil's properties %s (it is a report of go test or another tool, or of a run that failed before it knew its platform)", strings.Join(missing, " and "))
		}
		return nil
	}
	for _, suite := range s.Suites {
		if len(suite.missingProps()) == 0 {
			return nil
		}
	}
	return fmt.Errorf("none of its %d <testsuite> elements has gpiohil's properties %s (it is a report of go test or another tool)", len(s.Suites), want)
}

func (s Suite) missingProps() []string {
	var missing []string
	for _, name := range ReportProps {
		if !s.hasProp(name) {
			missing = append(missing, name)
		}
	}
	return missing
}

func (s Suite) hasProp(name string) bool {
	for _, p := range s.Properties {
		if p.Name == name {
			return true
		}
	}
	return false
}

// rootElement returns the name of b's root element, testsuites or testsuite, or says why b
// has neither.
func rootElement(b []byte) (string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return "", errors.New("it is empty")
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", errors.New("it holds no XML element")
		}
		if err != nil {
			return "", fmt.Errorf("it is not XML (%v)", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			if name := el.Name.Local; name != "testsuites" && name != "testsuite" {
				return "", fmt.Errorf("its root element is <%s>, want <testsuites> or <testsuite>", name)
			}
			return el.Name.Local, nil
		}
	}
}
