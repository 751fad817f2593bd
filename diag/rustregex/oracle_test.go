package rustregex

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOracle compares Check with the real Rust crate when a checker binary is
// available. Set RUST_REGEX_ORACLE to a program that reads hex-encoded
// patterns, one per line, and prints "OK" or "ERR <message>" per line after
// calling regex::Regex::new (regex 1.13.1). Without it the test is skipped;
// the table tests below pin the results it produced.
func TestOracle(t *testing.T) {
	bin := os.Getenv("RUST_REGEX_ORACLE")
	if bin == "" {
		t.Skip("RUST_REGEX_ORACLE not set")
	}
	var pats []string
	for _, c := range checkCases {
		pats = append(pats, c.pat)
	}
	rnd := rand.New(rand.NewSource(1))
	n := 20000
	if s := os.Getenv("RUST_REGEX_ORACLE_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	for i := 0; i < n; i++ {
		pats = append(pats, randomPattern(rnd))
	}
	verdicts := runOracle(t, bin, pats)
	bad := 0
	for i, p := range pats {
		rustOK := verdicts[i] == "OK"
		err := Check(p)
		if rustOK != (err == nil) {
			// Size-limit estimates are allowed to be off near the limit.
			if est := EstimateSize(p); est > SizeLimit*85/100 && est < SizeLimit*115/100 {
				continue
			}
			bad++
			if bad <= 40 {
				t.Errorf("%q: rust=%s go=%v", p, verdicts[i], err)
			}
		}
	}
	t.Logf("%d patterns, %d disagreements", len(pats), bad)
}

func runOracle(t *testing.T, bin string, pats []string) []string {
	var in strings.Builder
	for _, p := range pats {
		in.WriteString(hex.EncodeToString([]byte(p)))
		in.WriteByte('\n')
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	var res []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		res = append(res, sc.Text())
	}
	if len(res) != len(pats) {
		t.Fatalf("oracle returned %d lines for %d patterns", len(res), len(pats))
	}
	return res
}

var randomAtoms = []string{
	"a", "b", "/", ".", "^", "$", "(", ")", "(?:", "(?i)", "(?-u)", "(?x)", "(?s:", "(?P<n>", "(?<m>", "|", "[", "]", "[^", "-",
	"&&", "--", "~~", "[:alpha:]", "[:^digit:]", "\\", "\\d", "\\W", "\\w", "\\s", "\\b", "\\B", "\\<", "\\>", "\\A", "\\z",
	"\\Z", "\\pL", "\\p{Greek}", "\\p{Foo}", "\\P{gc=Lu}", "\\xFF", "\\x41", "\\x{263a}", "\\u00e9", "\\/", "\\-", "\\.",
	"\\1", "\\Q", "*", "+", "?", "??", "{", "}", "{2}", "{2,}", "{,3}", "{3,2}", "{1000}", "{ 2 }", "é", " ", "#", "\n",
	"\\b{start}", "\\b{", "{1000}{1000}", "(?=", "(?!", "\\e", "[a-z]", "[z-a]", "[\\d-z]", "(?)", "(?i-i)", "\\", ")",
}

const randomChars = "ab/()[]{}^$.*+?|\\-&~:!=<>Pp019xuU,dDwWsSbBAzZ imsRU#{}LN_é"

func randomPattern(r *rand.Rand) string {
	var b strings.Builder
	if r.Intn(2) == 0 {
		rs := []rune(randomChars)
		for i, n := 0, 1+r.Intn(12); i < n; i++ {
			b.WriteRune(rs[r.Intn(len(rs))])
		}
		return b.String()
	}
	n := 1 + r.Intn(8)
	for i := 0; i < n; i++ {
		b.WriteString(randomAtoms[r.Intn(len(randomAtoms))])
	}
	return b.String()
}
