package finding

import (
	"encoding/json"
	"testing"
)

func TestLevels(t *testing.T) {
	for in, want := range map[string]Level{"error": Error, "WARNING": Warning, "warn": Warning, "info": Info} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("fatal"); err == nil {
		t.Error("ParseLevel accepted an unknown level")
	}
	b, _ := json.Marshal(Finding{Code: "c", Level: Warning, Message: "m", RouteIndex: 3})
	if string(b) != `{"code":"c","level":"warning","message":"m"}` {
		t.Errorf("JSON = %s (levels are words; RouteIndex stays out of the contract)", b)
	}
}

func TestSort(t *testing.T) {
	fs := []Finding{
		{Code: "b", Level: Info, RouteIndex: -1},
		{Code: "z", Level: Error, RouteIndex: 2},
		{Code: "a", Level: Error, RouteIndex: 2},
		{Code: "w", Level: Warning, RouteIndex: 0},
		{Code: "e", Level: Error, RouteIndex: 0},
	}
	Sort(fs)
	want := []string{"e", "a", "z", "w", "b"}
	for i, f := range fs {
		if f.Code != want[i] {
			t.Fatalf("order = %v, want %v", fs, want)
		}
	}
}

func TestRegisterRejectsDuplicates(t *testing.T) {
	code := Register("test-only-code", Info, "for this test")
	if s, ok := Lookup(code); !ok || s.Description != "for this test" {
		t.Fatalf("Lookup = %+v %v", s, ok)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate code was accepted")
		}
		delete(registry, code)
	}()
	Register("test-only-code", Error, "again")
}
