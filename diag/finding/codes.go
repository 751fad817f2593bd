package finding

import "sort"

// Spec describes a finding code for --list-codes and the README.
type Spec struct {
	Code        string `json:"code"`
	Level       Level  `json:"level"`
	Description string `json:"description"`
}

var registry = map[string]Spec{}

// Register declares a code. Packages that emit findings register their codes
// at init so that the full list can be printed and documented.
func Register(code string, level Level, description string) string {
	if _, dup := registry[code]; dup {
		panic("finding: duplicate code " + code) // programming error, caught by any test
	}
	registry[code] = Spec{Code: code, Level: level, Description: description}
	return code
}

// Codes lists every registered code, sorted.
func Codes() []Spec {
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Lookup returns the spec of a code.
func Lookup(code string) (Spec, bool) {
	s, ok := registry[code]
	return s, ok
}
