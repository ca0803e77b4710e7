package vocab

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// Every word parses back to itself, and an unknown word is refused with the choices.
func TestParseRoundTrip(t *testing.T) {
	check := func(what string, words []string, parse func(string) (string, error)) {
		for _, w := range words {
			if got, err := parse(w); err != nil || got != w {
				t.Errorf("%s %q: parsed as %q, %v", what, w, got, err)
			}
		}
		if _, err := parse("nonsense"); err == nil || !strings.Contains(err.Error(), `"nonsense" unknown; want `+words[0]) {
			t.Errorf("%s: unknown word: %v", what, err)
		}
	}
	wrap := func(f func(string) (any, error)) func(string) (string, error) {
		return func(s string) (string, error) {
			v, err := f(s)
			return strings.TrimSpace(strings.Trim(jsonText(v), `"`)), err
		}
	}
	check("bias", Strings(Biases), wrap(func(s string) (any, error) { return ParseBias(s) }))
	check("direction", Strings(Directions), wrap(func(s string) (any, error) { return ParseDirection(s) }))
	check("action", Strings(Actions), wrap(func(s string) (any, error) { return ParseAction(s) }))
	check("outcome", Strings(Outcomes), wrap(func(s string) (any, error) { return ParseOutcome(s) }))
	check("verdict", Strings(Verdicts), wrap(func(s string) (any, error) { return ParseVerdict(s) }))
	check("bench", Strings(Benches), wrap(func(s string) (any, error) { return ParseBench(s) }))
	check("bench kind", Strings(BenchKinds), wrap(func(s string) (any, error) { return ParseBenchKind(s) }))
	check("field", Strings(Fields), wrap(func(s string) (any, error) { return ParseField(s) }))
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestEndingWords(t *testing.T) {
	var words, titles []string
	for _, e := range Endings {
		words, titles = append(words, e.String()), append(titles, e.Title())
		back, err := ParseEnding(e.String())
		if err != nil || back != e {
			t.Errorf("ParseEnding(%q) = %v, %v", e, back, err)
		}
		if up, err := ParseEnding(e.Title()); err != nil || up != e {
			t.Errorf("ParseEnding(%q) = %v, %v", e.Title(), up, err)
		}
	}
	if got := strings.Join(words, " "); got != "exit sigint sigterm sigkill parent-death" {
		t.Errorf("endings: %s", got)
	}
	if got := strings.Join(titles, " "); got != "exit SIGINT SIGTERM SIGKILL parent-death" {
		t.Errorf("ending titles: %s", got)
	}
	if s := Ending(7).String(); s != "Ending(7)" {
		t.Errorf("Ending(7).String() = %q", s)
	}
	if _, err := ParseEnding("SIGHUP"); err == nil || !strings.Contains(err.Error(), "want exit, sigint, sigterm, sigkill or parent-death") {
		t.Errorf("ParseEnding(SIGHUP): %v", err)
	}
	var e Ending
	if err := json.Unmarshal([]byte(`"sigkill"`), &e); err != nil || e != SIGKILL {
		t.Errorf("JSON sigkill: %v, %v", e, err)
	}
	if _, err := json.Marshal(Ending(9)); err == nil {
		t.Error("an unknown ending should not marshal")
	}
}

func TestBiasAndPull(t *testing.T) {
	for _, tc := range []struct {
		b    Bias
		p    Pull
		ok   bool
		lvl  Level
		drv  Drive
		back Bias
	}{
		{BiasPullUp, PullUp, true, High, Pulled, BiasPullUp},
		{BiasPullDown, PullDown, true, Low, Pulled, BiasPullDown},
		{BiasDisabled, PullNone, true, LevelUnknown, Floating, BiasDisabled},
		{BiasAsIs, PullUnknown, false, LevelUnknown, Pulled, BiasAsIs},
	} {
		p, ok := tc.b.Pull()
		if p != tc.p || ok != tc.ok || p.Level() != tc.lvl || DriveOf(p) != tc.drv {
			t.Errorf("%s: pull %s %v level %s drive %s", tc.b, p, ok, p.Level(), DriveOf(p))
		}
		if b, _ := p.Bias(); b != tc.back {
			t.Errorf("%s.Bias() = %s, want %s", p, b, tc.back)
		}
	}
	if PullUp.Opposite() != PullDown || PullDown.Opposite() != PullUp || PullNone.Opposite() != PullUp {
		t.Error("Opposite")
	}
}

func TestLevelWords(t *testing.T) {
	if LevelOf(0) != Low || LevelOf(1) != High || Low.Word() != "low" || High.Word() != "high" || LevelUnknown.Word() != "" {
		t.Error("level words")
	}
	for _, w := range []string{"low", "high"} {
		if v, err := ParseValueWord(w); err != nil || ValueWord(v) != w {
			t.Errorf("%s: %d, %v", w, v, err)
		}
	}
	if _, err := ParseValueWord("1"); err == nil {
		t.Error(`ParseValueWord("1") should fail`)
	}
}

func TestCapabilities(t *testing.T) {
	c := See(FieldDirection, FieldOwner)
	if !c.Has(FieldDirection) || !c.Has(FieldOwner) || !c.Has(FieldConsumer) || c.Has(FieldPull) {
		t.Errorf("%v: Has is wrong", c)
	}
	if c.String() != "direction,owner" {
		t.Errorf("String = %q", c)
	}
	all := See(Fields...)
	if all.String() != "direction,level,drive,pull,owner,released-direction,released-bias" {
		t.Errorf("all: %q", all)
	}
	back, err := ParseCapabilities(all.String())
	if err != nil || back != all {
		t.Errorf("ParseCapabilities(%q) = %v, %v", all, back, err)
	}
	if empty, err := ParseCapabilities(""); err != nil || empty != 0 || empty.String() != "" {
		t.Errorf("empty: %v, %v", empty, err)
	}
	if _, err := ParseCapabilities("direction,smell"); err == nil || !strings.Contains(err.Error(), `field "smell" unknown`) {
		t.Errorf("bad capability: %v", err)
	}
	b, _ := json.Marshal(Capabilities(0))
	if string(b) != "[]" {
		t.Errorf("empty JSON %s", b)
	}
}

func TestPersist(t *testing.T) {
	for in, want := range map[string]Persist{"Y\n": PersistOn, "1": PersistOn, "true": PersistOn, "N": PersistOff, "0": PersistOff, "": PersistUnset, "maybe": PersistUnset} {
		if got := ParsePersist(in); got != want {
			t.Errorf("ParsePersist(%q) = %q, want %q", in, got, want)
		}
	}
	if PersistOn.Word() != "persist on" || PersistOff.Word() != "persist off" || PersistUnset.Word() != "" {
		t.Error("persist words")
	}
}

func TestBenchKinds(t *testing.T) {
	for b, k := range map[Bench]BenchKind{BenchAuto: "", BenchVM: KindGPIOSim, BenchGPIOSim: KindGPIOSim, BenchVMRPi3: KindVMRPi3, BenchRPi: KindRPi} {
		if b.Kind() != k {
			t.Errorf("%s.Kind() = %q, want %q", b, b.Kind(), k)
		}
	}
}

// The flag.Values accept their words and refuse others, so command lines are checked.
func TestFlags(t *testing.T) {
	var b Bias
	var d Direction
	var bench Bench
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(&strings.Builder{})
	fs.Var(&b, "bias", "")
	fs.Var(&d, "direction", "")
	fs.Var(&bench, "bench", "")
	if err := fs.Parse([]string{"-bias", "pull-up", "-direction", "input", "-bench", "vm"}); err != nil || b != BiasPullUp || d != Input || bench != BenchVM {
		t.Errorf("parse: %v %v %v %v", err, b, d, bench)
	}
	if err := fs.Parse([]string{"-bias", "pullup"}); err == nil || !strings.Contains(err.Error(), `invalid value "pullup" for flag -bias: want as-is, disabled, pull-up or pull-down`) {
		t.Errorf("bad bias: %v", err)
	}
}

func TestSuiteOrder(t *testing.T) {
	if Persistence.Order() >= CleanupSuite.Order() || CleanupSuite.Order() >= Ownership.Order() || Suite("other").Order() != len(Suites) {
		t.Error("suite order")
	}
}

func ExampleOneOf() {
	fmt.Println(OneOf(Biases))
	// Output: as-is, disabled, pull-up or pull-down
}

func ExampleCapabilities() {
	c := See(FieldDirection, FieldOwner)
	fmt.Println(c, c.Has(FieldConsumer), c.Has(FieldLevel))
	// Output: direction,owner true false
}
