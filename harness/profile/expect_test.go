package profile_test

import (
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

const withExpect = `name: mine
description: a tool of my own
requires: [sh]
actions:
  set-output:
    command: [sh, -c, "true"]
  hold:
    command: [sh, -c, "sleep 9"]
    promises: {after-signal: keeps, after-kill: released-undefined}
expect:
  set-output: {exit: released-output}
  hold: {sigint: released-output, sigkill: released-output}
`

func TestExpectBlock(t *testing.T) {
	p, err := profile.Parse("mine.yaml", []byte(withExpect))
	if err != nil {
		t.Fatal(err)
	}
	if p.Expect[vocab.SetOutput][vocab.Exit] != vocab.ReleasedOutput || p.Expect[vocab.Hold][vocab.SIGKILL] != vocab.ReleasedOutput || len(p.Expect[vocab.Hold]) != 2 {
		t.Errorf("expect = %v", p.Expect)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"set-output: {exit: released-output}", "set-output: {exit: kept}", `mine.yaml:11:22:`},
		{"set-output: {exit: released-output}", "set-output: {exit: kept}", `unknown outcome "kept" for exit in expect of set-output`},
		{"hold: {sigint", "hodl: {sigint", `unknown action "hodl" in expect`},
		{"{sigint: released-output, sigkill", "{SIGTERM: released-output, sigkill", `unknown ending "SIGTERM" in expect of hold`},
	} {
		bad := strings.Replace(withExpect, tc.from, tc.to, 1)
		if _, err := profile.Parse("mine.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s -> %s: err = %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

// What promises say, as outcomes of a tool on the kernel's character device.
func TestPromisedOutcomes(t *testing.T) {
	p, err := profile.Lookup("gpiohil-drive")
	if err != nil {
		t.Fatal(err)
	}
	got := p.PromisedOutcomes()
	for _, tc := range []struct {
		action vocab.Action
		ending vocab.Ending
		want   vocab.Outcome
	}{
		{vocab.Cleanup, vocab.Exit, vocab.ReleasedInputNoBias},
		{vocab.SetOutput, vocab.Exit, vocab.ReleasedOutput},
		{vocab.HoldCleanup, vocab.SIGTERM, vocab.ReleasedInputNoBias},
		{vocab.HoldCleanup, vocab.SIGKILL, vocab.ReleasedOutput},
		{vocab.Hold, vocab.ParentDeath, vocab.ReleasedOutput},
	} {
		if o := got[tc.action][tc.ending]; o != tc.want {
			t.Errorf("%s ended by %s: promised %q, want %q", tc.action, tc.ending, o, tc.want)
		}
	}
	if _, ok := got[vocab.Hold][vocab.Exit]; ok {
		t.Error("a holding action does not end by itself")
	}
}
