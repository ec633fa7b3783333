package process

import (
	"fmt"
	"strings"
)

// This file builds on every OS, so that the command line can parse its
// settings anywhere; the runner itself is Linux-only.

// CgroupMode chooses how the tree scope is tracked.
type CgroupMode string

// Cgroup modes.
const (
	// CgroupAuto uses a cgroup v2 leaf when one can be created, and the
	// subreaper sweep otherwise. It is the zero value.
	CgroupAuto CgroupMode = ""
	// CgroupOn requires a cgroup: Start fails without one.
	CgroupOn CgroupMode = "on"
	// CgroupOff never uses a cgroup (the subreaper sweep only).
	CgroupOff CgroupMode = "off"
)

// ParseCgroupMode parses "auto", "on" or "off" (as in GRACEFUL_CGROUP).
func ParseCgroupMode(s string) (CgroupMode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return CgroupAuto, nil
	case "on", "true", "1", "required":
		return CgroupOn, nil
	case "off", "false", "0":
		return CgroupOff, nil
	}
	return "", fmt.Errorf("cgroup mode %q: want auto, on or off", s)
}
