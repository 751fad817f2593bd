package cli

import (
	"encoding/json"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Output formats shared by the commands.
const (
	OutputTable = "table"
	OutputWide  = "wide"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// CheckOutput validates -o against the formats a command supports.
func CheckOutput(value string, allowed ...string) (string, error) {
	if value == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if value == a {
			return value, nil
		}
	}
	return "", Usagef("unknown output format %q: use one of %s", value, strings.Join(allowed, ", "))
}

// WriteJSON prints v as indented JSON.
func WriteJSON(w io.Writer, v interface{}) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteYAML prints v as YAML, through its JSON form so that the JSON
// contract and the YAML output always agree.
func WriteYAML(w io.Writer, v interface{}) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
