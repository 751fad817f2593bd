package tapwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// A body linkerd's generated code produces for
// `linkerd viz tap deploy/web -n emojivoto --to svc/voting-svc
// --to-namespace emojivoto --method POST --path /emojivoto -o json`
// (shared/reference/tap-api.md §2).
const fullHex = "0a1e0a1c0a09656d6f6a69766f746f120a6465706c6f796d656e741a0377656212420a400a2422220a200a09656d6f6a69766f746f1207736572766963651a0a766f74696e672d7376630a082a061204504f53540a0e2a0c220a2f656d6f6a69766f746f1d0000c84222040a020a00"

func TestDecodeRequestFromLinkerd(t *testing.T) {
	b, _ := hex.DecodeString(fullHex)
	got, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := tapclient.Request{
		Target: tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "web"},
		To:     &tapclient.Target{Namespace: "emojivoto", Type: "service", Name: "voting-svc"},
		Method: "POST", Path: "/emojivoto", MaxRPS: 100, ExtractHeaders: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// What the client marshals, the server side reads back.
func TestDecodeRequestRoundTrip(t *testing.T) {
	reqs := []tapclient.Request{
		{Target: tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}, MaxRPS: 100},
		{
			Target: tapclient.Target{Namespace: "ns", Type: "pod", Name: "p"}, LabelSelector: "app=x",
			To:     &tapclient.Target{Type: "namespace", Name: "prod"},
			Scheme: "https", Method: "GET", Authority: "a:80", Path: "/p", ExtractHeaders: true,
		},
	}
	for _, r := range reqs {
		got, err := DecodeRequest(r.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("got %+v, want %+v", got, r)
		}
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	// Match{any: Seq{}} instead of all.
	anyMatch, _ := hex.DecodeString("0a020a00" + "1202" + "1200")
	if _, err := DecodeRequest(anyMatch); !errors.Is(err, ErrUnsupportedMatch) {
		t.Fatalf("any match: %v", err)
	}
	if _, err := DecodeRequest([]byte{0x0a, 0x05, 0x01}); err == nil {
		t.Fatal("truncated body accepted")
	}
	if _, err := DecodeRequest(nil); err == nil {
		t.Fatal("body without target accepted")
	}
}

func TestWriteFrame(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFrame(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.Bytes(); !bytes.Equal(got, []byte{3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0}) {
		t.Fatalf("frames = %x", got)
	}
}

func TestEncodeAPIError(t *testing.T) {
	// viz.ApiError{error=1}: tag 0x0a, length, text.
	if got := EncodeAPIError("no"); !bytes.Equal(got, []byte{0x0a, 2, 'n', 'o'}) {
		t.Fatalf("got %x", got)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(tapclient.Request{Target: tapclient.Target{Namespace: "n", Type: "deployment", Name: "w"}, MaxRPS: 100}.Marshal())
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeRequest(in)
		if err != nil {
			return
		}
		if _, err := DecodeRequest(r.Marshal()); err != nil {
			t.Fatalf("re-marshalled request does not decode: %v", err)
		}
	})
}
