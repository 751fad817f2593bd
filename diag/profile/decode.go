package profile

import (
	"encoding/json"
	"fmt"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Decode parses a ServiceProfile the way the destination controller's
// informer does: lenient about unknown fields, but failing on shapes its Go
// types cannot hold (a request-level `not` array, a non-empty `opaquePorts`).
// An object that fails here is invisible to the controller.
//
// JSON (the form the controller receives from the API server) is decoded as
// it is, with Go's encoding/json rules: a YAML round trip would refuse
// strings the API server accepts, such as DEL or C1 characters.
func Decode(data []byte) (*ServiceProfile, error) {
	if json.Valid(data) {
		return decodeJSON(data)
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return decodeJSON(raw)
}

// decodeJSON uses the API machinery's case-sensitive decoder, as the
// controller's clients do (encoding/json would accept "IsFailure").
func decodeJSON(raw []byte) (*ServiceProfile, error) {
	var sp ServiceProfile
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &sp); err != nil {
		return nil, explainDecodeError(err)
	}
	return &sp, nil
}

// DecodeStrict parses like the sp-validator admission webhook: unknown fields
// and wrong types are errors.
func DecodeStrict(data []byte) (*ServiceProfile, error) {
	var sp ServiceProfile
	if err := yaml.UnmarshalStrict(data, &sp); err != nil {
		return nil, explainDecodeError(err)
	}
	return &sp, nil
}

// FromJSONObject converts an already-decoded object (e.g. unstructured
// content from the API server) with controller decoding rules.
func FromJSONObject(obj map[string]interface{}) (*ServiceProfile, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return decodeJSON(raw)
}

// explainDecodeError rewords the two known CRD/Go schema mismatches, whose raw
// errors ("cannot unmarshal array into ... map[uint32]struct {}") mean little
// to a user.
func explainDecodeError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "map[uint32]struct"):
		return fmt.Errorf("spec.opaquePorts cannot be decoded by the Linkerd control plane (its Go type is not the CRD's string array): remove it and use the Service's config.linkerd.io/opaque-ports annotation: %w", err)
	case strings.Contains(msg, "cannot unmarshal array") && strings.Contains(msg, ".not of type") && strings.Contains(msg, "RequestMatch"):
		return fmt.Errorf("a request condition's `not` is a list, but the Linkerd control plane only decodes a single object there: %w", err)
	}
	return err
}
