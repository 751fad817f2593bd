package tapclient

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Bodies from shared/reference/tap-api.md §2, produced by linkerd's
// generated code.
const (
	minimalHex = "0a1e0a1c0a09656d6f6a69766f746f120a6465706c6f796d656e741a0377656212020a001d0000c8422200"
	fullHex    = "0a1e0a1c0a09656d6f6a69766f746f120a6465706c6f796d656e741a0377656212420a400a2422220a200a09656d6f6a69766f746f1207736572766963651a0a766f74696e672d7376630a082a061204504f53540a0e2a0c220a2f656d6f6a69766f746f1d0000c84222040a020a00"
)

func mustTarget(t *testing.T, ns string, args ...string) Target {
	t.Helper()
	tg, err := ParseTarget(ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestMarshalMatchesLinkerd(t *testing.T) {
	to, err := ParseDestination("emojivoto", "svc/voting-svc")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  Request
		hex  string
		size int
	}{
		{
			name: "linkerd viz tap deploy/web -n emojivoto",
			req:  Request{Target: mustTarget(t, "emojivoto", "deploy/web"), MaxRPS: 100},
			hex:  minimalHex, size: 43,
		},
		{
			name: "--to svc/voting-svc --to-namespace emojivoto --method POST --path /emojivoto -o json",
			req: Request{Target: mustTarget(t, "emojivoto", "deploy", "web"), To: &to,
				Method: "POST", Path: "/emojivoto", MaxRPS: 100, ExtractHeaders: true},
			hex: fullHex, size: 111,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.req.Marshal()
			if len(got) != tt.size {
				t.Errorf("len = %d, want %d", len(got), tt.size)
			}
			if h := hex.EncodeToString(got); h != tt.hex {
				t.Fatalf("body differs\n got %s\nwant %s", h, tt.hex)
			}
		})
	}
}

func TestMarshalLeavesZeroMaxRPSOff(t *testing.T) {
	// MaxRPS 0 must be left off so the server applies its default.
	req := Request{Target: Target{Namespace: "ns", Type: "pod", Name: "p"}}
	_ = walk(req.Marshal(), func(num protowire.Number, _ protowire.Type, _ []byte, _ uint64) error {
		if num == fReqMaxRPS {
			t.Error("maxRps written for 0")
		}
		return nil
	})
}

func TestURLPath(t *testing.T) {
	tests := []struct {
		target Target
		want   string
	}{
		{Target{Namespace: "emojivoto", Type: "deployment", Name: "web"},
			"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/web/tap"},
		{Target{Type: "namespace", Name: "emojivoto"},
			"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/tap"},
		{Target{Namespace: "default", Type: "deployment"},
			"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/default/deployments//tap"},
		{Target{Namespace: "default", Type: "replicationcontroller", Name: "rc1"},
			"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/default/replicationcontrollers/rc1/tap"},
		{Target{Namespace: "a b", Type: "pod", Name: "x/y?z"},
			"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/a%20b/pods/x%2Fy%3Fz/tap"},
	}
	for _, tt := range tests {
		if got := (Request{Target: tt.target}).URLPath(); got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.target, got, tt.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		args    []string
		want    Target
		wantErr string
	}{
		{[]string{"deploy/web"}, Target{"ns1", "deployment", "web"}, ""},
		{[]string{"deployments", "web"}, Target{"ns1", "deployment", "web"}, ""},
		{[]string{"po"}, Target{"ns1", "pod", ""}, ""},
		{[]string{"sts/db"}, Target{"ns1", "statefulset", "db"}, ""},
		{[]string{"ds/x"}, Target{"ns1", "daemonset", "x"}, ""},
		{[]string{"rs/x"}, Target{"ns1", "replicaset", "x"}, ""},
		{[]string{"rc/x"}, Target{"ns1", "replicationcontroller", "x"}, ""},
		{[]string{"cj/x"}, Target{"ns1", "cronjob", "x"}, ""},
		{[]string{"job/x"}, Target{"ns1", "job", "x"}, ""},
		{[]string{"Deploy/web"}, Target{"ns1", "deployment", "web"}, ""},
		{[]string{"ns/prod"}, Target{"", "namespace", "prod"}, ""},
		{[]string{"ns"}, Target{"", "namespace", "ns1"}, ""},
		{[]string{"svc/web"}, Target{}, `unsupported resource type "svc"`},
		{[]string{"bogus/x"}, Target{}, "use one of cronjob, daemonset"},
		{[]string{"a/b/c"}, Target{}, "expected TYPE"},
		{[]string{"deploy/"}, Target{}, "expected TYPE"},
		{nil, Target{}, "expected TYPE"},
	}
	for _, tt := range tests {
		got, err := ParseTarget("ns1", tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v: got %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
	if d, err := ParseDestination("", "svc/web"); err != nil || d.Type != "service" {
		t.Errorf("svc destination: %+v %v", d, err)
	}
}

func TestValidate(t *testing.T) {
	ok := Request{Target: Target{Namespace: "n", Type: "deployment", Name: "w"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []Request{
		{Target: Target{Type: "deployment", Name: "w"}},
		{Target: Target{Namespace: "n", Type: "service", Name: "w"}},
		{Target: ok.Target, To: &Target{Type: "nope"}},
		{Target: ok.Target, MaxRPS: -1},
	}
	for _, r := range bad {
		if err := r.Validate(); err == nil {
			t.Errorf("%+v: accepted", r)
		}
	}
}

func TestIdleMessage(t *testing.T) {
	r := Request{Target: Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}}
	if got := r.IdleMessage(10 * time.Second); got != "no requests seen for 10s: is traffic flowing to deployment/web in namespace emojivoto?" {
		t.Fatalf("got %q", got)
	}
}
