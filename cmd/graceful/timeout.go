package main

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeoutValue is --timeout: a Go duration ("90s", "1h30m") or a number of
// days ("2d", "1.5d"), as coreutils timeout takes them. A timeout past Go's
// duration range (about 292 years: "100000d", "1e9d") means no timeout, as
// for timeout; a positive timeout under a nanosecond is rounded up to one,
// as coreutils 9.7 does, rather than read as zero ("never").
type timeoutValue time.Duration

func (t *timeoutValue) String() string { return time.Duration(*t).String() }

// Type is "duration" so that errors about it read as any duration's.
func (t *timeoutValue) Type() string { return "duration" }

func (t *timeoutValue) Set(s string) error {
	d, err := parseTimeout(s)
	if err != nil {
		return err
	}
	*t = timeoutValue(d)
	return nil
}

var timeoutUnits = map[string]float64{
	"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9,
}

// parseTimeout parses a --timeout value; 0 means no timeout.
func parseTimeout(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration")
	}
	if n, err := strconv.ParseFloat(in, 64); err == nil {
		if n == 0 {
			return 0, nil
		}
		return 0, errors.New("a duration needs a unit, e.g. " + in + "s")
	}
	if strings.HasPrefix(in, "-") {
		return 0, errors.New("must not be negative")
	}
	in = strings.TrimPrefix(in, "+")
	total := 0.0 // nanoseconds
	for rest := in; rest != ""; {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' ||
			(i > 0 && (rest[i] == 'e' || rest[i] == 'E') && i+1 < len(rest) && (rest[i+1] >= '0' && rest[i+1] <= '9' || rest[i+1] == '+' || rest[i+1] == '-')) ||
			(i > 0 && (rest[i] == '+' || rest[i] == '-') && (rest[i-1] == 'e' || rest[i-1] == 'E'))) {
			i++
		}
		if i == 0 {
			return 0, errors.New("not a duration: give a number and a unit (ns, us, ms, s, m, h, d), e.g. 90s, 10m or 2d")
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("not a duration: " + strconv.Quote(rest[:i]) + " is not a number")
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		unit, ok := timeoutUnits[rest[:j]]
		if !ok {
			if j == 0 {
				return 0, errors.New("a duration needs a unit, e.g. " + s + "s")
			}
			return 0, errors.New("unknown unit " + strconv.Quote(rest[:j]) + " (ns, us, ms, s, m, h, d)")
		}
		rest = rest[j:]
		total += num * unit
	}
	switch {
	case total >= math.MaxInt64 || math.IsInf(total, 1):
		return 0, nil // past the range: never, as coreutils timeout
	case total > 0 && total < 1:
		return 1, nil
	}
	return time.Duration(total), nil
}

// mustTimeout parses a --timeout value that its flag has already parsed
// (the flag's own String), so it cannot fail.
func mustTimeout(s string) time.Duration {
	d, _ := parseTimeout(s)
	return d
}
