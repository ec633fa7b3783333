package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90s", 90 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"2d", 48 * time.Hour, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"100000d", 2400000 * time.Hour, ""},
		{"1e9d", 0, ""}, // past Go's range (292 years): never, as coreutils timeout
		{"9223372036854775807s", 0, ""},
		{"0.5ns", 1, ""}, // a positive timeout is never read as "never"
		{"1e-9ns", 1, ""},
		{"5", 0, "a duration needs a unit, e.g. 5s"},
		{"0.5", 0, "a duration needs a unit, e.g. 0.5s"},
		{"-1s", 0, "must not be negative"},
		{"abc", 0, "not a duration"},
		{"1h30", 0, "a duration needs a unit"},
		{"10y", 0, `unknown unit "y"`},
	} {
		got, err := parseTimeout(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q = %v, want %v", tc.in, got, tc.want)
		}
	}
}
