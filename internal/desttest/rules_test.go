package desttest

// Unit tests of the stand-in's own parsing rules, against upstream Linkerd
// (pkg/util/parsing.go, portrange.go; controller/api/destination/server.go,
// watcher/opaque_ports_watcher.go), not against the plugin.

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParsePorts(t *testing.T) {
	svcPorts := []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "8000-8001", Port: 9000}, {Port: 7000}}
	cases := []struct {
		value string
		want  []uint32
	}{
		{"", nil},
		{"25,587", []uint32{25, 587}},
		{" 25 , 587 ,", []uint32{25, 587}}, // items trimmed, one trailing comma dropped
		{"http", []uint32{80}},             // a port name
		{"8000-8001", []uint32{9000}},      // names first, even when they read as a range
		{"3-5", []uint32{3, 4, 5}},
		{"0-1", []uint32{0, 1}}, // 0 is a valid bound
		{"5-3", nil},            // upper below lower
		{"3 - 5", nil},          // no trimming inside a range
		{"+80", []uint32{80}},   // strconv.Atoi
		{"70000", nil},
		{"1-2-3", nil},
		{"nope", nil},
		{"25,,", []uint32{25, 7000}}, // an empty item matches the unnamed port
		{",", []uint32{7000}},        // "," loses its trailing comma: one empty item
	}
	for _, c := range cases {
		got := parsePorts(c.value, svcPorts)
		want := map[uint32]bool{}
		for _, p := range c.want {
			want[p] = true
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parsePorts(%q) = %v, want %v", c.value, got, want)
		}
	}
	if got := parsePorts("25,,", nil); !reflect.DeepEqual(got, map[uint32]bool{25: true}) {
		t.Errorf("defaults (no Service ports): %v", got)
	}
}

func TestParseToken(t *testing.T) {
	cases := map[string]string{
		``:                            "",
		`{"ns":"a"}`:                  "a",
		`{"ns":"a","pod":"p"}` + "\n": "a",
		`{"NS":"a"}`:                  "a", // encoding/json matches keys case-insensitively
		`ns:a`:                        "a",
		`ns:a:b`:                      "",
		`nx:a`:                        "",
		`{"ns":"a","pod":5}`:          "a", // a wrongly typed field: what was decoded is kept
		`null`:                        "",
	}
	for in, want := range cases {
		if got := parseToken(in).Namespace; got != want {
			t.Errorf("parseToken(%q).ns = %q, want %q", in, got, want)
		}
	}
}

func TestHostAndPort(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port uint32
		ok   bool
	}{
		{"a.b.svc.cluster.local", "a.b.svc.cluster.local", 80, true},
		{"a:8080", "a", 8080, true},
		{"a:+81", "a", 81, true},
		{"a:080", "a", 80, true},
		{"[::1]:90", "::1", 90, true},
		{"a:0", "", 0, false},
		{"a:65536", "", 0, false},
		{"a:", "", 0, false},
		{"::1", "", 0, false},
	}
	for _, c := range cases {
		h, p, err := hostAndPort(c.in)
		if (err == nil) != c.ok || (c.ok && (h != c.host || p != c.port)) {
			t.Errorf("hostAndPort(%q) = %q %d %v", c.in, h, p, err)
		}
	}
}
