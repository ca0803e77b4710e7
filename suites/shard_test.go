package suites_test

import (
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/suites"
)

func TestShardParses(t *testing.T) {
	for _, tc := range []struct {
		env  string
		k, n int
		err  string
	}{
		{"", 1, 1, ""},
		{"1/2", 1, 2, ""},
		{"2/2", 2, 2, ""},
		{"3/2", 0, 0, "want K/N with 1 <= K <= N"},
		{"0/2", 0, 0, "want K/N"},
		{"1/0", 0, 0, "want K/N"},
		{"half", 0, 0, `GPIOHIL_SHARD="half"`},
	} {
		t.Setenv(suites.EnvShard, tc.env)
		k, n, err := suites.Shard()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) || k != tc.k || n != tc.n {
			t.Errorf("%s=%q: %d/%d, %v; want %d/%d, error containing %q", suites.EnvShard, tc.env, k, n, err, tc.k, tc.n, tc.err)
		}
	}
}
