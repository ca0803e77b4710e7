package vocab

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Field is one fact about a line that an observation holds and an expectation may check.
type Field string

// The fields, in the order reports show them.
const (
	FieldDirection Field = "direction"
	FieldLevel     Field = "level"
	FieldDrive     Field = "drive"
	FieldPull      Field = "pull"
	FieldOwner     Field = "owner"
	FieldConsumer  Field = "consumer" // who holds the line; seen wherever the owner is
	// FieldReleasedDirection and FieldReleasedBias witness how the line was given back: the
	// direction and bias its last request had when it ended (none: no request ended while
	// the tool ran). gpio-sim returns every released line to its simulated pull, so only this
	// tells a tool that cleaned up from one that did not.
	FieldReleasedDirection Field = "released-direction"
	FieldReleasedBias      Field = "released-bias"
)

// Fields lists every field, in report order.
var Fields = []Field{FieldDirection, FieldLevel, FieldDrive, FieldPull, FieldOwner, FieldConsumer,
	FieldReleasedDirection, FieldReleasedBias}

// ParseField reads a field.
func ParseField(s string) (Field, error) { return parse("field", s, Fields) }

func (f Field) String() string { return string(f) }

// Capabilities is the set of fields a bench can see.
type Capabilities uint16

func (f Field) bit() Capabilities {
	if f == FieldConsumer {
		f = FieldOwner // line info names the consumer wherever it says the line is used
	}
	for i, g := range Fields {
		if g == f {
			return 1 << i
		}
	}
	return 0
}

// See returns the set of the given fields.
func See(fs ...Field) Capabilities {
	var c Capabilities
	for _, f := range fs {
		c |= f.bit()
	}
	return c
}

// Has reports whether the set holds field f (consumer: whether it holds owner).
func (c Capabilities) Has(f Field) bool { b := f.bit(); return b != 0 && c&b == b }

// Fields lists the fields in the set, in report order; consumer is implied by owner and not
// listed.
func (c Capabilities) Fields() []Field {
	var fs []Field
	for _, f := range Fields {
		if f != FieldConsumer && c.Has(f) {
			fs = append(fs, f)
		}
	}
	return fs
}

// String is the fields joined by commas, as the JUnit property "sees" holds them:
// "direction,level,drive,pull,owner".
func (c Capabilities) String() string { return strings.Join(Strings(c.Fields()), ",") }

// ParseCapabilities reads a comma-separated list of fields ("" is the empty set).
func ParseCapabilities(s string) (Capabilities, error) {
	var c Capabilities
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		f, err := ParseField(w)
		if err != nil {
			return 0, fmt.Errorf("capabilities %q: %w", s, err)
		}
		c |= f.bit()
	}
	return c, nil
}

// MarshalJSON writes the set as a list of field names, as observations always have.
func (c Capabilities) MarshalJSON() ([]byte, error) {
	fs := c.Fields()
	if fs == nil {
		fs = []Field{}
	}
	return json.Marshal(fs)
}

// UnmarshalJSON reads a list of field names.
func (c *Capabilities) UnmarshalJSON(b []byte) error {
	var fs []string
	if err := json.Unmarshal(b, &fs); err != nil {
		return err
	}
	set, err := ParseCapabilities(strings.Join(fs, ","))
	*c = set
	return err
}
