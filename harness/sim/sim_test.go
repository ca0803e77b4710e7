package sim

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseBank(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bank
		err  string
	}{
		{"gpiohil-a=3", Bank{"gpiohil-a", []string{"gpiohil-a-0", "gpiohil-a-1", "gpiohil-a-2"}}, ""},
		{"pi=GPIO17,GPIO27", Bank{"pi", []string{"GPIO17", "GPIO27"}}, ""},
		{"nolines", Bank{}, "want LABEL=N or LABEL=NAME,NAME"},
		{"a=0", Bank{}, "0 lines is out of range 1 to 64"},
		{"a=65", Bank{}, "65 lines is out of range 1 to 64"},
		{"=4", Bank{}, `label "" must be`},
		{"a b=4", Bank{}, `label "a b" must be`},
		{"a=x,,y", Bank{}, `line name "" must be`},
		{"a=x,x", Bank{}, `line name "x" given twice`},
	} {
		got, err := ParseBank(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBank(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseBank(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	a := Bank{"a", []string{"x", "y"}}
	if err := Validate([]Bank{a, {"b", []string{"z"}}}); err != nil {
		t.Errorf("valid banks: %v", err)
	}
	for _, tc := range []struct {
		banks []Bank
		want  string
	}{
		{[]Bank{a, a}, `label "a" given to two banks`},
		{[]Bank{a, {"b", []string{"y"}}}, `line name "y" is in banks "a" and "b"`},
		{[]Bank{{"c", nil}}, `bank "c" has no lines`},
	} {
		if err := Validate(tc.banks); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%v) = %v, want %q", tc.banks, err, tc.want)
		}
	}
}

func TestEnvRoundTrip(t *testing.T) {
	chips := []Chip{{Label: "a", Name: "gpiochip3", Dev: "/dev/gpiochip3", Sysfs: "/sys/devices/platform/gpio-sim.0/gpiochip3", Lines: []string{"x"}}}
	k, v, _ := strings.Cut(Env(chips), "=")
	t.Setenv(k, v)
	got, err := FromEnv()
	if err != nil || !reflect.DeepEqual(got, chips) {
		t.Fatalf("FromEnv = %v, %v", got, err)
	}
	c, err := Find(got, "a")
	if err != nil || c.Attr(2, "pull") != "/sys/devices/platform/gpio-sim.0/gpiochip3/sim_gpio2/pull" {
		t.Errorf("Find/Attr = %v %q %v", c, c.Attr(2, "pull"), err)
	}
	if _, err := Find(got, "b"); err == nil || !strings.Contains(err.Error(), `no chip labelled "b" (have a)`) {
		t.Errorf("Find(b) error = %v", err)
	}
}

func TestFromEnvUnset(t *testing.T) {
	t.Setenv(EnvVar, "")
	if _, err := FromEnv(); err == nil {
		t.Error("FromEnv with an empty value should fail")
	}
}
