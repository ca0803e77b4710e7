package junit

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.xml")
	in := Suites{Tests: 2, Suites: []Suite{{Name: "s", Tests: 2, Properties: []Property{{Name: "bench", Value: "gpio-sim"}},
		Cases: []Case{
			{Name: "a", Time: "0.100", SystemOut: ResultEntry + `: {"tool":"t","verdict":"met","observed":"input low pulled pull-down"}`},
			{Name: "b", Time: "0.200", Skipped: &Message{Message: "not installed"}},
		}}}}
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := out.Suites[0]
	if s.Prop("bench") != "gpio-sim" || len(s.Cases) != 2 || s.Cases[1].Skipped == nil || s.Cases[1].Skipped.Message != "not installed" {
		t.Errorf("read back %+v", s)
	}
	if rs := s.Cases[0].Results(); len(rs) != 1 || rs[0].Tool != "t" || rs[0].Observed != "input low pulled pull-down" {
		t.Errorf("results %+v", rs)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.xml")); err == nil {
		t.Error("reading a missing file should fail")
	}
}

func TestMergeJoinsShards(t *testing.T) {
	props := []Property{{Name: "bench", Value: "gpio-sim"}}
	a := Suites{Name: "gpiohil suites", Tests: 2, Failures: 1, Time: "10.5", Suites: []Suite{{Name: "gpiohil suites", Tests: 2, Failures: 1, Time: "10.5", Properties: props,
		Cases: []Case{{Name: "a"}, {Name: "b", Failure: &Message{Message: "x"}}}}}}
	b := Suites{Name: "gpiohil suites", Tests: 2, Errors: 1, Time: "12.0", Suites: []Suite{{Name: "gpiohil suites", Tests: 2, Errors: 1, Skipped: 1, Time: "12.0", Properties: props,
		Cases: []Case{{Name: "c", Error: &Message{Message: "y"}}, {Name: "d", Skipped: &Message{Message: "z"}}}}}}
	m := Merge(a, b)
	if m.Tests != 4 || m.Failures != 1 || m.Errors != 1 || m.Time != "12.0" || len(m.Suites) != 1 {
		t.Fatalf("merged %+v; want 4 tests, 1 failure, 1 error, the longest time, one suite", m)
	}
	s := m.Suites[0]
	var names []string
	for _, c := range s.Cases {
		names = append(names, c.Name)
	}
	if s.Tests != 4 || s.Failures != 1 || s.Errors != 1 || s.Skipped != 1 || s.Time != "12.0" || s.Prop("bench") != "gpio-sim" ||
		strings.Join(names, ",") != "a,b,c,d" {
		t.Errorf("merged suite %+v", s)
	}
	if len(a.Suites[0].Cases) != 2 {
		t.Error("Merge changed its input")
	}
}
