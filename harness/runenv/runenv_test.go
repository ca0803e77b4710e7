package runenv

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

// lookupIn reads variables from environment entries, as os.LookupEnv reads the process's.
func lookupIn(env []string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v, true
			}
		}
		return "", false
	}
}

// What the host writes is what the suites read, field for field.
func TestRunRoundTrip(t *testing.T) {
	full := Run{
		Bench: vocab.KindVMRPi3, Lane: "persist-on", Profiles: []string{"libgpiod-v1", "/carry/mine.yaml"},
		Expectations: []string{"/carry/rules.yaml", "/carry/more.yaml"}, OnlyExpect: true, NoTimeline: true, Rig: "/etc/rig.yaml", Board: "Raspberry Pi 3, emulated", DUT: "GPIO22",
		Neighbour: "GPIO23", Shard: Shard{K: 2, N: 3}, JUnit: "/out/suites.xml", Outbox: "/out", Bin: "/bin/gpiohil",
		InVM: true, Sim: `[{"label":"gpiohil-suite","chip":"gpiochip0","lines":["dut"]}]`,
	}
	for _, want := range []Run{full, {Shard: All}} {
		env := want.Environ()
		got, err := ReadRun(lookupIn(env))
		if err != nil {
			t.Fatalf("ReadRun(%q): %v", env, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip through %q:\n got %+v\nwant %+v", env, got, want)
		}
	}
	if env := (Run{Shard: All}).Environ(); len(env) != 0 {
		t.Errorf("a default run writes nothing; wrote %q", env)
	}
	// Every variable of a full run is written, and each is one of Keys.
	env := full.Environ()
	if len(env) != len(Keys) {
		t.Errorf("a full run writes %d variables; Keys has %d", len(env), len(Keys))
	}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if !slices.Contains(Keys, k) {
			t.Errorf("%s is written but not in Keys", k)
		}
	}
}

func TestReadRunRefuses(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"GPIOHIL_BENCH=mars", `GPIOHIL_BENCH: bench kind "mars" unknown; want gpio-sim, vm-rpi3 or rpi`},
		{"GPIOHIL_SHARD=half", `GPIOHIL_SHARD="half": want K/N`},
	} {
		_, err := ReadRun(lookupIn([]string{tc.env}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.env, err, tc.want)
		}
	}
}

func TestShardParses(t *testing.T) {
	for _, tc := range []struct {
		env  string
		k, n int
		err  string
	}{
		{"1/2", 1, 2, ""},
		{"2/2", 2, 2, ""},
		{"3/2", 0, 0, "want K/N with 1 <= K <= N"},
		{"0/2", 0, 0, "want K/N"},
		{"1/0", 0, 0, "want K/N"},
		{"half", 0, 0, `GPIOHIL_SHARD="half"`},
	} {
		s, err := ParseShard(tc.env)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) || s.K != tc.k || s.N != tc.n {
			t.Errorf("%s=%q: %v, %v; want %d/%d, error containing %q", EnvShard, tc.env, s, err, tc.k, tc.n, tc.err)
		}
	}
	if r, err := ReadRun(lookupIn(nil)); err != nil || r.Shard != All {
		t.Errorf("unset: %v, %v; want 1/1", r.Shard, err)
	}
}

// Specs are dealt round-robin: every shard gets every N-th spec, and each spec one shard.
func TestShardOwns(t *testing.T) {
	for n := 1; n <= 4; n++ {
		for i := range 12 {
			owners := 0
			for k := 1; k <= n; k++ {
				mine, owner := Shard{K: k, N: n}.Owns(i)
				if mine {
					owners++
				}
				if owner != i%n+1 {
					t.Errorf("spec %d of %d shards: owner %d", i, n, owner)
				}
			}
			if owners != 1 {
				t.Errorf("spec %d of %d shards is run by %d shards", i, n, owners)
			}
		}
	}
	if mine, _ := (Shard{}).Owns(5); !mine {
		t.Error("the zero shard runs everything")
	}
}

func TestWithout(t *testing.T) {
	env := []string{"PATH=/bin", "GPIOHIL_JUNIT=/old.xml", "HOME=/root", "GPIOHIL_SHARD=1/2", "GPIOHIL_KERNEL=/k"}
	got := Without(env)
	want := []string{"PATH=/bin", "HOME=/root", "GPIOHIL_KERNEL=/k"}
	if !slices.Equal(got, want) {
		t.Errorf("Without = %q, want %q (host settings are not a run's)", got, want)
	}
}

func TestHostRoundTrip(t *testing.T) {
	want := Host{Kernel: "/k/bzImage", Agent: "/bin/gpiohil-agent", BinArm64: "/bin/gpiohil-arm64", RPi3Kernel: "/k/rpi3", RPi4QEMU: "/q/qemu-system-aarch64",
		Suites: "/bin/suites.test", SuitesArm64: "/bin/suites-arm64.test", RequireVM: true}
	if got := ReadHost(lookupIn(want.Environ())); got != want {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if got := ReadHost(lookupIn([]string{"GPIOHIL_REQUIRE_VM=0"})); got.RequireVM {
		t.Error("GPIOHIL_REQUIRE_VM=0 requires nothing")
	}
}
