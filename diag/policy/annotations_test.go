package policy

import (
	"reflect"
	"testing"
	"time"
)

// Reference §7.1: one integer, one unit; bare 0.
func TestParseDuration(t *testing.T) {
	ok := map[string]time.Duration{
		"0": 0, "10s": 10 * time.Second, "500ms": 500 * time.Millisecond, "1m": time.Minute,
		"2h": 2 * time.Hour, "1d": 24 * time.Hour, " 5s ": 5 * time.Second, "0s": 0,
	}
	for in, want := range ok {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1.5s", "1m30s", "500", "-1s", "10 s", "", "s", "5us", "1w"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted; the controller rejects it", in)
		}
	}
}

// Reference §7.1: retry.linkerd.io/http grammar.
func TestHTTPConditions(t *testing.T) {
	ok := map[string][]string{
		"5xx":                   {"500-599"},
		"5XX":                   {"500-599"},
		"gateway-error":         {"502-504"},
		"Gateway-Error":         {"502-504"},
		"429":                   {"429"},
		"500-504":               {"500-504"},
		"5xx,429":               {"500-599", "429"},
		"100-599":               {"100-599"},
		"503-503,gateway-error": {"503", "502-504"},
	}
	for in, want := range ok {
		got, err := httpConditions(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("httpConditions(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"5xx, 429", "600", "99", "504-500", "4xx", "", "5xx,"} {
		if _, err := httpConditions(in); err == nil {
			t.Errorf("httpConditions(%q) accepted; the controller rejects it", in)
		}
	}
}

func TestGRPCConditions(t *testing.T) {
	got, err := grpcConditions("Unavailable,cancelled,DEADLINE-EXCEEDED")
	if err != nil || !reflect.DeepEqual(got, []string{"cancelled", "deadline-exceeded", "unavailable"}) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, in := range []string{"unavailable, internal", "not-found", "deadline_exceeded"} {
		if _, err := grpcConditions(in); err == nil {
			t.Errorf("grpcConditions(%q) accepted", in)
		}
	}
}

// Reference §7.1, §7.2: limit defaults to 1, 0 means unset; no default
// condition; the fixed parameters of convert_retry.
func TestRetryFrom(t *testing.T) {
	fixed := func(r Retry) *Retry {
		r.MaxRequestBytes = 65536
		r.Backoff = &Backoff{Min: "25ms", Max: "250ms", Jitter: 1}
		if r.Conditions == nil {
			r.Conditions = []string{}
		}
		return &r
	}
	cases := []struct {
		name string
		ann  map[string]string
		key  string
		want *Retry
		err  bool
	}{
		{"none", map[string]string{"other": "x"}, AnnotationRetryHTTP, nil, false},
		{"grpc only is none for HTTP", map[string]string{AnnotationRetryGRPC: "internal"}, AnnotationRetryHTTP, nil, false},
		{"http only: limit 1", map[string]string{AnnotationRetryHTTP: "5xx"}, AnnotationRetryHTTP, fixed(Retry{Limit: 1, Conditions: []string{"500-599"}}), false},
		{"limit without conditions never retries a status", map[string]string{AnnotationRetryLimit: "3"}, AnnotationRetryHTTP, fixed(Retry{Limit: 3}), false},
		{"limit 0 means unset", map[string]string{AnnotationRetryLimit: "0", AnnotationRetryHTTP: "5xx"}, AnnotationRetryHTTP, fixed(Retry{Limit: 1, Conditions: []string{"500-599"}}), false},
		{"timeout", map[string]string{AnnotationRetryTimeout: "300ms"}, AnnotationRetryHTTP, fixed(Retry{Limit: 1, Timeout: "300ms"}), false},
		{"timeout 0 means unset", map[string]string{AnnotationRetryTimeout: "0"}, AnnotationRetryHTTP, fixed(Retry{Limit: 1}), false},
		{"limit over u16", map[string]string{AnnotationRetryLimit: "70000"}, AnnotationRetryHTTP, nil, true},
		{"bad limit kills grpc too", map[string]string{AnnotationRetryLimit: "x", AnnotationRetryGRPC: "internal"}, AnnotationRetryGRPC, nil, true},
		{"grpc", map[string]string{AnnotationRetryGRPC: "internal,unavailable", AnnotationRetryLimit: "2"}, AnnotationRetryGRPC, fixed(Retry{Limit: 2, Conditions: []string{"internal", "unavailable"}}), false},
	}
	for _, c := range cases {
		got, err := retryFrom(c.ann, c.key)
		if (err != nil) != c.err || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, %v; want %+v (err %v)", c.name, got, err, c.want, c.err)
		}
	}
}

// Reference §8.
func TestAccrualFrom(t *testing.T) {
	got, err := accrualFrom(map[string]string{AnnotationFailureAccrual: "consecutive"})
	want := &FailureAccrual{Kind: "consecutive", MaxFailures: 7, Backoff: &Backoff{Min: "1s", Max: "1m0s", Jitter: 0.5}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("consecutive defaults: got %+v, %v", got, err)
	}
	got, err = accrualFrom(map[string]string{AnnotationFailureAccrual: "unified"})
	if err != nil || got.Kind != "unified" || got.SuccessRateThreshold != 0.8 || got.Decay != "10s" || got.MinRequests != 5 {
		t.Errorf("unified defaults: got %+v, %v", got, err)
	}
	if got, err := accrualFrom(map[string]string{}); got != nil || err != nil {
		t.Errorf("absent: got %+v, %v", got, err)
	}
	for _, ann := range []map[string]string{
		{AnnotationFailureAccrual: "Consecutive"},
		{AnnotationFailureAccrual: "consecutive", AnnotationConsecutiveMinPen: "2m", AnnotationConsecutiveMaxPen: "1m"},
		{AnnotationFailureAccrual: "consecutive", AnnotationConsecutiveMaxPen: "0"},
		{AnnotationFailureAccrual: "consecutive", AnnotationConsecutiveJitter: "101"},
		{AnnotationFailureAccrual: "unified", AnnotationSuccessRateWindow: "5ms"},
	} {
		if got, err := accrualFrom(ann); err == nil {
			t.Errorf("%v accepted: %+v", ann, got)
		}
	}
}
