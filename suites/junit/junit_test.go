package junit

import (
	"path/filepath"
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
