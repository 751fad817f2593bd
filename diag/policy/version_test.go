package policy

import "testing"

func TestHonoursGatewayRuleTimeouts(t *testing.T) {
	for _, c := range []struct {
		v               string
		honoured, known bool
	}{
		{"stable-2.20.0", true, true},
		{"stable-2.19.3", false, true},
		{"enterprise-2.18.1", false, true},
		{"edge-25.11.3", true, true},
		{"edge-25.11.2", false, true},
		{"edge-25.9.10", false, true},
		{"edge-26.1.2", true, true},
		{"v2.20.1", true, true},
		{"", false, false},
		{"latest", false, false},
		{"sha256:abc", false, false},
	} {
		h, k := HonoursGatewayRuleTimeouts(c.v)
		if h != c.honoured || k != c.known {
			t.Errorf("%q: got %v %v, want %v %v", c.v, h, k, c.honoured, c.known)
		}
	}
}
