package expect

import (
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// reaches lists the platforms each bench kind can put a tool on: the drivers and
// persist_gpio_outputs settings its lines can have.
var reaches = map[vocab.BenchKind][]observe.Platform{
	vocab.KindGPIOSim: {{Driver: "gpio-sim"}},
	vocab.KindVMRPi3:  {{Driver: "pinctrl-bcm2835", Persist: vocab.PersistOff}, {Driver: "pinctrl-bcm2835", Persist: vocab.PersistOn}},
	vocab.KindRPi: {{Driver: "pinctrl-bcm2835", Persist: vocab.PersistOff}, {Driver: "pinctrl-bcm2835", Persist: vocab.PersistOn},
		{Driver: "pinctrl-rp1", Persist: vocab.PersistOff}, {Driver: "pinctrl-rp1", Persist: vocab.PersistOn}},
}

// Every built-in profile's actions have an outcome for every way they can end, and every such
// outcome a rule on every platform the profile's benches reach: no built-in spec can end as
// "no known expectation".
func TestEveryBuiltinSpecHasAnExpectation(t *testing.T) {
	r := rules(t)
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		kinds := p.BenchKinds
		if len(kinds) == 0 {
			kinds = vocab.BenchKinds
		}
		for _, name := range p.Names() {
			endings := []vocab.Ending{vocab.Exit}
			if p.Actions[name].Holds {
				endings = []vocab.Ending{vocab.SIGINT, vocab.SIGTERM, vocab.SIGKILL, vocab.ParentDeath}
			}
			for _, e := range endings {
				c := Case{Tool: p.Name, Action: name, Ending: e}
				o, err := r.Outcome(c)
				if err != nil {
					t.Errorf("%s %s ended by %s: %v", p.Name, name, e, err)
					continue
				}
				for _, k := range kinds {
					for _, plat := range reaches[k] {
						rp, err := r.Platform(plat)
						if err != nil {
							t.Errorf("%s on bench %s: %v", p.Name, k, err)
							continue
						}
						if _, ok := rp.Outcomes[o]; !ok {
							t.Errorf("%s %s ended by %s leaves the line %s, which platform %s (bench %s) has no rule for", p.Name, name, e, o, rp.Name, k)
						}
					}
				}
			}
		}
	}
}
