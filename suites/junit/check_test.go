package junit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goTestXML is the shape of go-junit-report's output (make test's go-test.xml): JUnit, but
// not a gpiohil report.
const goTestXML = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" skipped="0">
	<testsuite name="github.com/gpiohil/gpiohil/cmd/gpiohil" tests="1" failures="0" errors="0" id="0" hostname="vm" time="0.015" timestamp="2026-12-01T13:23:03Z">
		<properties><property name="go.version" value="go1.26.8 linux/amd64"></property></properties>
		<testcase name="TestParseDrive" classname="github.com/gpiohil/gpiohil/cmd/gpiohil" time="0.000"></testcase>
	</testsuite>
	<testsuite name="github.com/gpiohil/gpiohil/harness/vm" tests="1" failures="0" errors="0" id="1" hostname="vm" time="0.015">
		<testcase name="TestBoot" classname="github.com/gpiohil/gpiohil/harness/vm" time="0.000"></testcase>
	</testsuite>
</testsuites>
`

const htmlPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>gpiohil semantics</title></head>
<body><table><tr><td>released-output</td></tr></table></body></html>
`

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckReportRefusesWhatIsNotAGpiohilReport(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"empty.xml", "", "it is empty"},
		{"blank.xml", " \n\t\n", "it is empty"},
		{"text.xml", "PASS\nok  \tgithub.com/gpiohil/gpiohil 0.1s\n", "it holds no XML element"},
		{"broken.xml", "<testsuites><testsuite", "it is not XML"},
		{"semantics.html", htmlPage, "its root element is <html>, want <testsuites> or <testsuite>"},
		{"go-test.xml", goTestXML, "none of its 2 <testsuite> elements has gpiohil's properties bench and kernel"},
		{"one.xml", `<testsuite name="x" tests="0"><properties><property name="bench" value="vm"/></properties></testsuite>`,
			"its <testsuite> lacks gpiohil's properties kernel"},
		{"none.xml", `<testsuites tests="0"></testsuites>`, "it has no <testsuite>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.name, tc.content)
			_, err := CheckReport(p)
			if err == nil || !strings.Contains(err.Error(), p+" is not a gpiohil JUnit report: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckReport(%s) = %v; want the file named and %q", tc.name, err, tc.want)
			}
		})
	}
	if _, err := CheckReport(filepath.Join(t.TempDir(), "missing.xml")); err == nil || !strings.Contains(err.Error(), "missing.xml") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestCheckReportTakesGpiohilReports(t *testing.T) {
	props := []Property{{Name: "kernel", Value: "6.12.117"}, {Name: "bench", Value: "gpio-sim"}, {Name: "persist_gpio_outputs", Value: ""}}
	full := filepath.Join(t.TempDir(), "suites-vm.xml")
	in := Suites{Name: "gpiohil suites", Tests: 1, Suites: []Suite{{Name: "gpiohil suites", Tests: 1, Properties: props, Cases: []Case{{Name: "a"}}}}}
	if err := WriteFile(full, in); err != nil {
		t.Fatal(err)
	}
	lone := write(t, "lone.xml", `<testsuite name="gpiohil suites" tests="0"><properties>`+
		`<property name="bench" value="vm-rpi3"/><property name="kernel" value=""/></properties></testsuite>`)
	for _, p := range []string{full, lone} {
		s, err := CheckReport(p)
		if err != nil || len(s.Suites) != 1 || s.Suites[0].Prop("bench") == "" {
			t.Errorf("CheckReport(%s) = %+v, %v; want the report", p, s, err)
		}
	}
}
