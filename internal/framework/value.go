package framework

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a parsed answer: yes, no, na, or a whole number.
type Value struct {
	Yes, No, NA bool
	IsCount     bool
	Count       int64
}

// ParseValue parses an answer as written in CSV files and on the wire.
// Case and surrounding space are ignored for yes/no/na ("N/A" is accepted).
func ParseValue(s string) (Value, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y":
		return Value{Yes: true}, nil
	case "no", "n":
		return Value{No: true}, nil
	case "na", "n/a":
		return Value{NA: true}, nil
	case "":
		return Value{}, fmt.Errorf("empty value: the answer is yes, no, na or a whole number")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return Value{}, fmt.Errorf("value %q is not yes, no, na or a whole number", s)
	}
	return Value{IsCount: true, Count: n}, nil
}

// String returns the canonical form stored and sent: yes, no, na or digits.
func (v Value) String() string {
	switch {
	case v.Yes:
		return "yes"
	case v.No:
		return "no"
	case v.NA:
		return "na"
	default:
		return strconv.FormatInt(v.Count, 10)
	}
}
