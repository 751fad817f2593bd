package template

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Template is the template of path as a string (tests; the Grouper appends
// into its own buffer).
func Template(path string) string {
	var stack [256]byte
	b := appendTemplate(stack[:0], path)
	if string(b) == path {
		return path // nothing replaced: no allocation
	}
	return string(b)
}

// Each row documents one rule of Template with an example.
func TestTemplate(t *testing.T) {
	long := "/a/" + strings.Repeat("x", MaxPathLen)
	tests := []struct {
		name, path, want string
	}{
		// Shape of the path.
		{"empty path is the root", "", "/"},
		{"root", "/", "/"},
		{"literal nouns stay", "/api/users/me", "/api/users/me"},
		{"trailing slash kept", "/users/42/", "/users/{id}/"},
		{"double slash kept", "/a//42", "/a//{id}"},
		{"no leading slash", "users/42", "users/{id}"},
		{"asterisk form", "*", "*"},

		// Query and fragment.
		{"query dropped", "/search?q=1&page=2", "/search"},
		{"query only", "?x=1", "/"},
		{"query after id", "/users/42?expand=true", "/users/{id}"},
		{"fragment dropped", "/doc#section-1", "/doc"},

		// Numbers, dates, versions, addresses.
		{"number", "/users/42", "/users/{id}"},
		{"zero", "/page/0", "/page/{id}"},
		{"negative number", "/offset/-5", "/offset/{id}"},
		{"decimal", "/price/3.14", "/price/{id}"},
		{"date", "/reports/2024-01-31", "/reports/{id}"},
		{"time", "/at/12:30:00", "/at/{id}"},
		{"dotted version", "/api/1.2.3/x", "/api/{id}/x"},
		{"ip address", "/hosts/10.0.0.1", "/hosts/{id}"},
		{"grouped digits", "/n/1_000_000", "/n/{id}"},
		{"v1 stays", "/api/v1/users", "/api/v1/users"},
		{"ISO timestamp", "/at/2024-01-31T10:00:00Z", "/at/{id}"},
		{"ISO timestamp with offset", "/at/2024-01-31T10:00:00.123+01:00", "/at/{id}"},

		// UUIDs and hex.
		{"uuid", "/orders/123e4567-e89b-12d3-a456-426614174000", "/orders/{id}"},
		{"uuid upper case", "/o/123E4567-E89B-12D3-A456-426614174000", "/o/{id}"},
		{"uuid all letters", "/o/abcdefab-cdef-abcd-efab-cdefabcdefab", "/o/{id}"},
		{"hex 8", "/commits/5f2b9c0e", "/commits/{id}"},
		{"hex 40", "/git/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/git/{id}"},
		{"object id", "/docs/507f1f77bcf86cd799439011", "/docs/{id}"},
		{"hex without digit is a word", "/deadbeef", "/deadbeef"},
		{"short hex stays", "/ab12", "/ab12"},

		// Tokens.
		{"ulid", "/t/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/t/{id}"},
		{"base64url", "/s/aGVsbG8td29ybGQtMTIzNDU2", "/s/{id}"},
		{"base64 padded", "/s/dGhpcyBpcyB0b2tlbjEyMw==", "/s/{id}"},
		{"padding only at the end", "/s/dGhpcyBpcyB0=b2tlbjEyMw", "/s/dGhpcyBpcyB0=b2tlbjEyMw"},
		{"token with dashes", "/k/ab12-cd34-ef56-gh78", "/k/{id}"},
		{"short token stays", "/k/abc123xyz", "/k/abc123xyz"},
		{"camel case with one digit stays", "/VotingServiceV2Handler", "/VotingServiceV2Handler"},
		{"long word stays", "/getUserPreferencesForAccount", "/getUserPreferencesForAccount"},
		{"grpc method stays", "/emojivoto.v1.VotingService/VoteDoughnut", "/emojivoto.v1.VotingService/VoteDoughnut"},

		// Mixed segments.
		{"digit run", "/orders/order-1234567", "/orders/{id}"},
		{"short digit run stays", "/oauth2callback", "/oauth2callback"},
		// The extension rule applies first, so a domain's last label stays.
		{"email", "/users/bob@example.com", "/users/{id}.com"},
		{"encoded email", "/users/bob%40example.com", "/users/{id}.com"},
		{"email without extension", "/users/bob@localhost", "/users/{id}"},
		{"at sign at the edge stays", "/@me", "/@me"},
		{"several ids", "/users/42/orders/7/items/5f2b9c0e", "/users/{id}/orders/{id}/items/{id}"},

		// Extensions.
		{"extension kept", "/books/1.json", "/books/{id}.json"},
		{"extension on uuid", "/img/123e4567-e89b-12d3-a456-426614174000.png", "/img/{id}.png"},
		{"extension on word", "/index.html", "/index.html"},
		{"double extension on word", "/archive.tar.gz", "/archive.tar.gz"},
		{"five letter extension", "/f/7.woff2", "/f/{id}.woff2"},
		{"long extension is no extension", "/f/7.javascript", "/f/7.javascript"},
		{"dot file", "/.well-known/acme", "/.well-known/acme"},

		// Encodings and text.
		{"percent-encoded word stays", "/caf%C3%A9/menu", "/caf%C3%A9/menu"},
		{"percent-encoded space stays", "/hello%20world", "/hello%20world"},
		{"unicode word stays", "/café/日本", "/café/日本"},
		{"unicode with digit run", "/用户123456", "/{id}"},
		{"unicode next to an id", "/ユーザー/42", "/ユーザー/{id}"},
		{"invalid utf-8 hidden", "/a/\xff\xfe/b", "/a/{id}/b"},
		{"braces hidden", "/a/{name}/b", "/a/{id}/b"},
		{"braces in stem hidden", "/a/{x}.json", "/a/{id}.json"},

		// Length cap.
		{"long path keeps whole segments", long, "/a/{rest}"},
		{"long segment without slash", strings.Repeat("y", MaxPathLen+1), "{rest}"},
		{"exactly the cap is kept", "/" + strings.Repeat("z", MaxPathLen-1), "/" + strings.Repeat("z", MaxPathLen-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Template(tt.path)
			if got != tt.want {
				t.Errorf("Template(%q) = %q, want %q", tt.path, got, tt.want)
			}
			if utf8.ValidString(tt.path) && !utf8.ValidString(got) {
				t.Errorf("Template(%q) = %q is not valid UTF-8", tt.path, got)
			}
			if again := Template(got); again != got && !strings.Contains(got, RestPlaceholder) {
				// A template is its own template: placeholders are hidden
				// braces, literals classify as literals again.
				t.Errorf("Template(Template(%q)) = %q, want %q", tt.path, again, got)
			}
		})
	}
}

func TestTemplateLengthBound(t *testing.T) {
	// Many short id segments could grow the output: "/1" becomes "/{id}".
	path := strings.Repeat("/1", MaxPathLen)
	got := Template(path)
	if !strings.HasSuffix(got, "/"+RestPlaceholder) {
		t.Fatalf("Template of a long path = ...%q, want a %s suffix", got[len(got)-20:], RestPlaceholder)
	}
	// Worst case: every 2-byte segment becomes a 5-byte placeholder.
	if limit := MaxPathLen/2*len("/{id}") + len("/{rest}"); len(got) > limit {
		t.Errorf("template length %d > %d", len(got), limit)
	}
}

func TestExamplePath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "/"},
		{"/a?b=c", "/a"},
		{"/a", "/a"},
		// A cut must not split a rune: 'é' is two bytes straddling the cap.
		{"/" + strings.Repeat("x", MaxPathLen-2) + "é", "/" + strings.Repeat("x", MaxPathLen-2)},
	}
	for _, tt := range tests {
		if got := examplePath(tt.path); got != tt.want {
			t.Errorf("examplePath(%.20q...) = %.20q..., want %.20q...", tt.path, got, tt.want)
		}
		if got := examplePath(tt.path); !utf8.ValidString(got) || len(got) > MaxPathLen {
			t.Errorf("examplePath(%.20q...) not valid UTF-8 or too long (%d)", tt.path, len(got))
		}
	}
}

func TestTemplateDoesNotAllocateIntoBuffer(t *testing.T) {
	buf := make([]byte, 0, 2*MaxPathLen)
	path := "/users/42/orders/123e4567-e89b-12d3-a456-426614174000/items/7.json?x=1"
	allocs := testing.AllocsPerRun(100, func() {
		buf = appendTemplate(buf[:0], path)
	})
	if allocs != 0 {
		t.Errorf("appendTemplate allocated %.1f times per call, want 0", allocs)
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"", "/", "/users/42", "/a/{x}.json", "/café/1", "/a?b", strings.Repeat("/1", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := Template(path)
		if got == "" {
			t.Fatalf("Template(%q) is empty", path)
		}
		if utf8.ValidString(path) && !utf8.ValidString(got) {
			t.Fatalf("Template(%q) = %q is not valid UTF-8", path, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Template(%q) = %q is not valid UTF-8 (invalid segments must be hidden)", path, got)
		}
		if len(got) > MaxPathLen*5/2+16 {
			t.Fatalf("Template(%.30q...) is %d bytes", path, len(got))
		}
	})
}
