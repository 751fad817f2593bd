package metrics

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"
)

// The fast path. prometheus/common's expfmt is the parser of record, but it
// builds a protobuf message per sample (about 75 allocations a line), which
// makes a fleet of proxies cost seconds. A proxy writes a narrow, regular
// subset of the text format; scanner reads exactly that subset with interned
// strings and arena-allocated series, and gives up on anything else: a line
// outside the subset, or a document expfmt might reject or read
// differently. Giving up means the whole exposition goes to expfmt, so
// expfmt's result (or error) is the answer for every input the scanner does
// not fully understand. FuzzScannerAgreesWithExpfmt holds the two together.

// famType is the TYPE of a family as expfmt records it.
type famType uint8

const (
	typeNone famType = iota // created by a HELP line, no sample or TYPE yet
	typeUntyped
	typeCounter
	typeGauge
	typeHistogram
)

type family struct {
	name string
	typ  famType
	help bool
}

// sample kinds within a histogram family.
const (
	kindPlain = iota
	kindBucket
	kindCount
	kindSum
)

// histState tracks one histogram metric (family and labels, le aside).
type histState struct {
	inf, count bool
	buckets    *Series // nil until a bucket line
}

type scanner struct {
	ok   bool
	snap *Snapshot
	// fams mirrors expfmt's metricFamiliesByName.
	fams   map[string]*family
	hists  map[string]*histState
	strs   map[string]string
	bounds map[string]bound
	run    run
	// bucketCap sizes a new histogram's buckets like the ones before.
	bucketCap int
	series    []Series
	labels    []Label
	scr       Labels
	key       []byte
	buf       []byte
}

func newScanner() *scanner {
	return &scanner{
		ok:        true,
		bucketCap: 8,
		snap:      &Snapshot{Series: map[string]*Series{}},
		fams:      map[string]*family{},
		hists:     map[string]*histState{},
		strs:      map[string]string{},
		bounds:    map[string]bound{},
	}
}

// intern returns b as a string, one allocation per distinct value.
func (s *scanner) intern(b []byte) string {
	if v, ok := s.strs[string(b)]; ok {
		return v
	}
	v := string(b)
	s.strs[v] = v
	return v
}

// resolve finds the family of a name as expfmt's setOrCreateCurrentMF
// does: the exact name, else the histogram whose _bucket/_count/_sum it is,
// else a new family. (Summaries never get here: a summary TYPE gives up.)
func (s *scanner) resolve(name string) (*family, int) {
	if f := s.fams[name]; f != nil {
		return f, kindPlain
	}
	for _, sfx := range [...]struct {
		s    string
		kind int
	}{{"_count", kindCount}, {"_sum", kindSum}, {"_bucket", kindBucket}} {
		if len(name) > len(sfx.s) && name[len(name)-len(sfx.s):] == sfx.s {
			if f := s.fams[name[:len(name)-len(sfx.s)]]; f != nil && f.typ == typeHistogram {
				return f, sfx.kind
			}
			break
		}
	}
	f := &family{name: name}
	s.fams[name] = f
	return f, kindPlain
}

// line reads one line; false (and the scanner is done) when it is outside
// the subset.
func (s *scanner) line(b []byte) bool {
	if !s.ok {
		return false
	}
	if len(b) > 0 && b[0] == '#' {
		s.run.h = nil
		s.ok = s.comment(b)
	} else {
		s.ok = s.sample(b)
	}
	return s.ok
}

func metricNameLen(b []byte) int {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			i++
			continue
		}
		break
	}
	return i
}

func labelNameLen(b []byte) int {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			i++
			continue
		}
		break
	}
	return i
}

// comment reads "# TYPE name type" and "# HELP name text", single spaces,
// nothing else.
func (s *scanner) comment(b []byte) bool {
	var isType bool
	switch {
	case bytes.HasPrefix(b, []byte("# TYPE ")):
		isType = true
	case bytes.HasPrefix(b, []byte("# HELP ")):
	default:
		return false
	}
	b = b[len("# TYPE "):]
	n := metricNameLen(b)
	if n == 0 || n+1 >= len(b) || b[n] != ' ' || b[n+1] == ' ' || b[n+1] == '\t' {
		return false
	}
	name, rest := s.intern(b[:n]), b[n+1:]
	f, _ := s.resolve(name)
	if !isType {
		if f.help || bytes.IndexByte(rest, '\\') >= 0 {
			return false
		}
		f.help = true
		return true
	}
	if f.typ != typeNone {
		return false // expfmt: second TYPE, or TYPE after samples
	}
	switch string(rest) {
	case "counter":
		f.typ = typeCounter
	case "gauge":
		f.typ = typeGauge
	case "untyped":
		f.typ = typeUntyped
	case "histogram":
		// (A family already named like one of its samples keeps those
		// lines: resolve tries the exact name first, as expfmt does.)
		f.typ = typeHistogram
	default:
		return false
	}
	return true
}

// value parses a sample value or le bound as expfmt's parseFloat does.
func value(b []byte) (float64, bool) {
	if len(b) == 0 || bytes.ContainsAny(b, "pP_") {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}

// count is a histogram count: expfmt stores uint64(v), exact for these.
func count(v float64) bool { return v >= 0 && v < 1<<53 && v == math.Trunc(v) }

// run is the last histogram bucket line read in full. The next bucket of
// the same series differs from it only in the le value, so it is read by
// comparing the bytes around le: most of a proxy's lines are such buckets.
type run struct {
	pre, suf []byte // the line before `le="`, and from le's closing quote through '}'
	h        *histState
}

// bound is an le value as read and as written in series labels.
type bound struct {
	v float64
	s string
}

func (s *scanner) bound(raw []byte) (bound, bool) {
	if b, ok := s.bounds[string(raw)]; ok {
		return b, true
	}
	v, ok := value(raw)
	if !ok || math.IsNaN(v) {
		return bound{}, false // expfmt drops a NaN bound's sample: left to it
	}
	b := bound{v, s.internString(formatLE(v))}
	s.bounds[string(raw)] = b
	return b, true
}

// sampleValue reads "value" or "value timestamp" after the labels.
func sampleValue(b []byte) (float64, bool) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		if _, err := strconv.ParseInt(string(b[i+1:]), 10, 64); err != nil {
			return 0, false
		}
		b = b[:i]
	}
	if bytes.IndexByte(b, '\t') >= 0 {
		return 0, false
	}
	return value(b)
}

// sameRun reads a bucket line of the current run; false sends the line to
// the full reading.
func (s *scanner) sameRun(line []byte) bool {
	r := &s.run
	if r.h == nil || !bytes.HasPrefix(line, r.pre) {
		return false
	}
	rest := line[len(r.pre):]
	if !bytes.HasPrefix(rest, []byte(`le="`)) {
		return false
	}
	rest = rest[len(`le="`):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return false
	}
	le, ok := s.bound(rest[:i])
	rest = rest[i:]
	if !ok || !bytes.HasPrefix(rest, r.suf) {
		return false
	}
	rest = rest[len(r.suf):]
	if len(rest) == 0 || rest[0] != ' ' {
		return false
	}
	v, ok := sampleValue(rest[1:])
	if !ok || !count(v) {
		return false
	}
	v = float64(uint64(v)) // as expfmt stores it: -0 becomes 0
	r.h.inf = r.h.inf || math.IsInf(le.v, 1)
	r.h.buckets.setBucket(Bucket{le.s, le.v, v})
	return true
}

func (s *scanner) sample(line []byte) bool {
	if s.sameRun(line) {
		return true
	}
	b := line
	n := metricNameLen(b)
	if n == 0 || n == len(b) || b[n] != '{' && b[n] != ' ' {
		return false
	}
	f, kind := s.resolve(s.intern(b[:n]))
	if f.typ == typeNone {
		f.typ = typeUntyped
	}
	hist := f.typ == typeHistogram
	if hist && (kind == kindPlain || f.name == "process_start_time_seconds") {
		return false // the expfmt path reads that family only as a start time
	}
	b = b[n:]
	s.scr = s.scr[:0]
	var le bound
	leStart, leEnd, braceEnd := -1, -1, -1
	if b[0] == '{' {
		b = b[1:]
		for len(b) > 0 && b[0] != '}' {
			pairStart := len(line) - len(b)
			n := labelNameLen(b)
			if n == 0 || n+1 >= len(b) || b[n] != '=' || b[n+1] != '"' {
				return false
			}
			lname := b[:n]
			b = b[n+2:]
			end, esc := 0, false
			for end < len(b) && b[end] != '"' {
				if b[end] == '\\' {
					esc = true
					end++
				}
				end++
			}
			if end >= len(b) {
				return false
			}
			raw := b[:end]
			b = b[end+1:]
			if esc {
				s.buf = s.buf[:0]
				for i := 0; i < len(raw); i++ {
					c := raw[i]
					if c == '\\' {
						i++
						switch raw[i] {
						case '\\', '"':
							c = raw[i]
						case 'n':
							c = '\n'
						default:
							return false
						}
					}
					s.buf = append(s.buf, c)
				}
				raw = s.buf
			}
			if !utf8.Valid(raw) || string(lname) == "__name__" {
				return false
			}
			if hist && string(lname) == "le" {
				if leStart >= 0 || kind != kindBucket {
					return false
				}
				var ok bool
				if le, ok = s.bound(raw); !ok {
					return false
				}
				leStart, leEnd = pairStart, len(line)-len(b)
				if esc {
					leStart = -2 // no run: the bytes around an escaped bound are not compared
				}
			} else {
				s.scr = append(s.scr, Label{s.intern(lname), s.intern(raw)})
			}
			switch {
			case len(b) > 0 && b[0] == ',':
				b = b[1:]
			case len(b) == 0 || b[0] != '}':
				return false
			}
		}
		if len(b) < 2 || b[1] != ' ' {
			return false
		}
		braceEnd = len(line) - len(b) + 1
		b = b[2:]
	} else {
		b = b[1:]
	}
	v, ok := sampleValue(b)
	if !ok {
		return false
	}
	sortLabels(s.scr)
	for i := 1; i < len(s.scr); i++ {
		if s.scr[i].Name == s.scr[i-1].Name {
			return false // expfmt: duplicate label names
		}
	}
	if !hist {
		if f.name == "process_start_time_seconds" {
			if v > 0 {
				s.snap.StartTime = v
			}
			return true
		}
		s.key = appendKey(s.key[:0], f.name, s.scr)
		s.addKeyed(s.key, s.internString(f.name), s.scr, v)
		return true
	}
	if kind == kindBucket && leStart == -1 || kind != kindSum && !count(v) {
		return false
	}
	if kind != kindSum {
		v = float64(uint64(v)) // as expfmt stores it: -0 becomes 0
	}
	bucketName := s.internString(f.name + "_bucket")
	s.key = appendKey(s.key[:0], bucketName, s.scr)
	h := s.hists[string(s.key)]
	if h == nil {
		h = &histState{}
		s.hists[string(s.key)] = h
	}
	switch kind {
	case kindCount:
		h.count = true
		s.key = appendKey(s.key[:0], f.name+"_count", s.scr)
		s.addKeyed(s.key, s.internString(f.name+"_count"), s.scr, v)
	case kindSum:
		s.key = appendKey(s.key[:0], f.name+"_sum", s.scr)
		s.addKeyed(s.key, s.internString(f.name+"_sum"), s.scr, v)
	case kindBucket:
		if h.buckets == nil {
			if s.snap.Series[string(s.key)] != nil {
				return false // a plain series of that name and labels: leave it to expfmt
			}
			h.buckets = s.newSeries(bucketName, s.scr, 0)
			h.buckets.Buckets = make([]Bucket, 0, s.bucketCap)
			s.snap.Series[string(s.key)] = h.buckets
		}
		h.inf = h.inf || math.IsInf(le.v, 1)
		h.buckets.setBucket(Bucket{le.s, le.v, v})
		s.bucketCap = min(64, max(s.bucketCap, len(h.buckets.Buckets)))
		r := &s.run
		*r = run{pre: r.pre[:0], suf: r.suf[:0]}
		if leStart >= 0 {
			r.pre = append(r.pre, line[:leStart]...)
			r.suf = append(r.suf, line[leEnd-1:braceEnd]...)
			r.h = h
		}
	}
	return true
}

func (s *scanner) internString(v string) string {
	if w, ok := s.strs[v]; ok {
		return w
	}
	s.strs[v] = v
	return v
}

// addKeyed stores a series under key.
func (s *scanner) addKeyed(key []byte, name string, ls Labels, v float64) {
	if math.IsNaN(v) {
		return
	}
	if old := s.snap.Series[string(key)]; old != nil {
		old.Value = v // a later sample of the same series wins, as in expfmt's order
		return
	}
	s.snap.Series[string(key)] = s.newSeries(name, ls, v)
}

// newSeries allocates a series from arenas; the labels are copied out of
// the scratch slice.
func (s *scanner) newSeries(name string, ls Labels, v float64) *Series {
	if len(s.series) == 0 {
		s.series = make([]Series, 256)
	}
	if cap(s.labels)-len(s.labels) < len(ls) {
		s.labels = make([]Label, 0, max(2048, len(ls)))
	}
	start := len(s.labels)
	s.labels = append(s.labels, ls...)
	sr := &s.series[0]
	s.series = s.series[1:]
	*sr = Series{Name: name, Labels: s.labels[start:len(s.labels):len(s.labels)], Value: v}
	return sr
}

// finish: a histogram with a _count and no +Inf bucket gets a synthetic one
// on the expfmt path; the scanner leaves that case to it.
func (s *scanner) finish() (*Snapshot, bool) {
	if !s.ok {
		return nil, false
	}
	for _, h := range s.hists {
		if h.count && !h.inf {
			return nil, false
		}
	}
	return s.snap, true
}

// scanAll runs the scanner over a whole text (tests, fuzzing).
func scanAll(text []byte) (*Snapshot, bool) {
	s := newScanner()
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			i = len(text)
		}
		if !s.line(text[:i]) {
			return nil, false
		}
		text = text[min(i+1, len(text)):]
	}
	return s.finish()
}

func sortLabels(ls Labels) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// appendKey is the Snapshot.Series key of a series: its name and sorted
// labels.
func appendKey(dst []byte, name string, ls Labels) []byte {
	dst = append(dst, name...)
	for _, l := range ls {
		dst = append(dst, 0)
		dst = append(dst, l.Name...)
		dst = append(dst, 1)
		dst = append(dst, l.Value...)
	}
	return dst
}
