// Package finding is the vocabulary shared by every diagnosis: a stable code,
// a level, where it applies and a message that says what to change.
package finding

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Level orders how bad a finding is.
type Level int

const (
	Info Level = iota
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "info"
	}
}

// ParseLevel reads "error", "warning" or "info".
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return Info, fmt.Errorf("unknown level %q (want error, warning or info)", s)
}

// MarshalText makes levels print as words in JSON and YAML.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// Finding is one diagnosis. Code is stable across releases; Message is for
// humans and may change.
type Finding struct {
	Code    string `json:"code"`
	Level   Level  `json:"level"`
	Message string `json:"message"`
	// Route names the route a finding is about ("" for the whole profile).
	Route string `json:"route,omitempty"`
	// RouteIndex is the route's position in spec.routes, or -1.
	RouteIndex int `json:"-"`
}

// MarshalJSON keeps RouteIndex out of the get contract but lets other
// contracts (check) add it explicitly.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	return json.Marshal(plain(f))
}

// Sort orders findings by level (worst first), then route index, then code,
// so that output is stable.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.RouteIndex != b.RouteIndex {
			return a.RouteIndex < b.RouteIndex
		}
		return a.Code < b.Code
	})
}
