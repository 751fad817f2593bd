package lang

import "sort"

// Index finds, for each condition of a list, the earlier ones that may
// share a request with it, without exploring automata: a cheap, sound
// filter on method sets and literal path prefixes. It keeps questions over
// thousands of routes from comparing every pair.
type Index struct {
	conds    []Cond
	prefix   []string
	info     []prefixes
	methods  [][]string       // nil: any method
	byPrefix map[string][]int // ascending indices
	sorted   []int            // indices by prefix, then index
}

// NewIndex indexes conds.
func NewIndex(conds []Cond) *Index {
	x := &Index{conds: conds, prefix: make([]string, len(conds)), info: make([]prefixes, len(conds)), methods: make([][]string, len(conds)),
		byPrefix: map[string][]int{}, sorted: make([]int, len(conds))}
	for i, c := range conds {
		x.prefix[i] = RequiredPrefix(c)
		x.info[i] = prefixInfo(c)
		if set, all := MethodSet(c); !all {
			x.methods[i] = make([]string, 0, len(set))
			for m := range set {
				x.methods[i] = append(x.methods[i], m)
			}
		}
		x.byPrefix[x.prefix[i]] = append(x.byPrefix[x.prefix[i]], i)
		x.sorted[i] = i
	}
	sort.SliceStable(x.sorted, func(a, b int) bool { return x.prefix[x.sorted[a]] < x.prefix[x.sorted[b]] })
	return x
}

// Earlier returns, in ascending order, the indices i < j whose condition
// may share a request with condition j.
func (x *Index) Earlier(j int) []int {
	p := x.prefix[j]
	var out []int
	take := func(i int) {
		if i < j && prefixesMeet(x.info[i], x.info[j]) && x.methodsMeet(i, j) {
			out = append(out, i)
		}
	}
	// Earlier prefixes that p extends (including p itself).
	for k := 0; k <= len(p); k++ {
		for _, i := range x.byPrefix[p[:k]] {
			if i >= j {
				break
			}
			take(i)
		}
	}
	// Earlier prefixes that extend p.
	at := sort.Search(len(x.sorted), func(a int) bool { return x.prefix[x.sorted[a]] > p })
	for ; at < len(x.sorted); at++ {
		i := x.sorted[at]
		if len(x.prefix[i]) <= len(p) || x.prefix[i][:len(p)] != p {
			break
		}
		take(i)
	}
	sort.Ints(out)
	return out
}

func (x *Index) methodsMeet(i, j int) bool {
	a, b := x.methods[i], x.methods[j]
	if a == nil || b == nil {
		return true
	}
	for _, m := range a {
		for _, n := range b {
			if m == n {
				return true
			}
		}
	}
	return false
}
