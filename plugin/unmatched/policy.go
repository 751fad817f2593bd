package unmatched

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// maxKept bounds the requests of one policy lookup kept for re-matching:
// those routed to a rule and those the proxy answered with a 404.
const maxKept = 10000

// policyState is what a policy-mode lookup (Service, port, client
// namespace) keeps to verify the proposed route: the served routes and
// the requests, as the matcher reads them.
type policyState struct {
	matcher *policymatch.Matcher
	routed  []kept
	missed  []policymatch.Request // the 404s
	// over counts requests not kept (beyond maxKept).
	overRouted, overMissed int
}

type kept struct {
	req policymatch.Request
	res policymatch.Result
}

// keepPolicy records a policy-mode request (routed or 404) of lookup k.
func (c *collector) keepPolicy(ev *tapclient.Event, res tapprofile.Result) {
	if res.Matcher == nil {
		return
	}
	st := c.policy[res.Key]
	if st == nil {
		if len(c.policy) >= maxServices*4 {
			return
		}
		st = &policyState{matcher: res.Matcher}
		k := res.Key
		k.Service, k.Namespace, k.ClientNamespace = strings.Clone(k.Service), strings.Clone(k.Namespace), strings.Clone(k.ClientNamespace)
		c.policy[k] = st
	}
	// Kept past the event: only the headers the rules look at, cloned.
	var req policymatch.Request
	tapprofile.PolicyRequest(&req, ev)
	req.Method, req.Authority, req.Path = strings.Clone(req.Method), strings.Clone(req.Authority), strings.Clone(req.Path)
	used := req.Headers[:0]
	for _, h := range req.Headers {
		if st.matcher.UsesHeader(h.Name) {
			used = append(used, policymatch.Header{Name: strings.Clone(h.Name), Value: strings.Clone(h.Value), Bin: h.Bin})
		}
	}
	req.Headers = used
	switch res.Status {
	case tapprofile.PolicyMatched:
		if len(st.routed) >= maxKept {
			st.overRouted++
			return
		}
		st.routed = append(st.routed, kept{req: req, res: res.Match})
	case tapprofile.PolicyNoRoute:
		if len(st.missed) >= maxKept {
			st.overMissed++
			return
		}
		st.missed = append(st.missed, req)
	}
}

// proposal is the route proposed for one Service port in policy mode,
// verified against the run's requests.
type proposal struct {
	kind    string // HTTPRoute or GRPCRoute
	object  any
	rules   int
	covered int // 404s the new rules route
	// dropped names rules left out because they would take routed
	// requests from their rule (one example each).
	dropped []string
	// unexpressed: groups no rule could be written for (gRPC paths that
	// are not a service/method pair).
	unexpressed int
	err         error
}

// propose builds the HTTPRoute (or, for a gRPC policy, the GRPCRoute)
// covering the 404 groups of lookup k and verifies it by re-matching the
// kept requests against the served routes plus the new ones (appended:
// a new route sorts after the existing ones, which win ties). A rule that
// would take a routed request from its rule is left out, and the check
// runs again, so the result never changes where a routed request goes.
func (o *Options) propose(k tapprofile.Key, st *policyState, groups []template.Group) proposal {
	p := template.Parent{Service: k.Service, Namespace: k.Namespace, Port: k.Port}
	name := k.Service + "-unmatched"
	var out proposal
	drop := map[int]bool{} // indexes into the generated rules
	for {
		var http []dpolicy.HTTPRoute
		var grpc []*dpolicy.GRPCRoute
		if st.matcher.GRPC() {
			r, left := template.GRPCRouteFor(p, name, groups)
			r.Spec.Rules = without(r.Spec.Rules, drop)
			out.kind, out.object, out.rules, out.unexpressed = "GRPCRoute", r, len(r.Spec.Rules), countOf(left)
			cp := r.DeepCopy()
			tapprofile.AssumeAccepted(&cp.Status.Parents, cp.Spec.ParentRefs)
			grpc = append(grpc, cp)
		} else {
			r := template.HTTPRouteFor(p, name, groups)
			r.Spec.Rules = without(r.Spec.Rules, drop)
			out.kind, out.object, out.rules = "HTTPRoute", r, len(r.Spec.Rules)
			cp := r.DeepCopy()
			tapprofile.AssumeAccepted(&cp.Status.Parents, cp.Spec.ParentRefs)
			http = append(http, dpolicy.HTTPRoute{Group: dpolicy.GroupGateway, HTTPRoute: cp})
		}
		if out.rules == 0 {
			return out
		}
		exp := tapprofile.ExpectFromRoutes(k, o.Dest.ClusterDomain, http, grpc, nil)
		var fresh []dpolicy.Route
		for _, r := range exp.Policy.Routes {
			if r.Default == "" {
				fresh = append(fresh, r)
			}
		}
		if len(fresh) != 1 || len(fresh[0].Rules) != out.rules {
			why := ""
			for _, v := range exp.Routes {
				why = v.Reason + " " + v.Detail
			}
			out.err = fmt.Errorf("the proposed %s would not be served as written (%s): not proposed", out.kind, strings.TrimSpace(why))
			return out
		}
		old := st.matcher.Routes()
		after, err := policymatch.NewRoutes(append(append([]dpolicy.Route(nil), old...), fresh...), st.matcher.GRPC())
		if err != nil {
			out.err = fmt.Errorf("the proposed %s does not compile: %v", out.kind, err)
			return out
		}
		taking := map[int]string{}
		for i := range st.routed {
			got := after.Match(&st.routed[i].req)
			if got.Outcome != policymatch.NoRoute && got.Route == len(old) && got != st.routed[i].res {
				if _, ok := taking[got.Rule]; !ok {
					r := &st.routed[i]
					taking[got.Rule] = fmt.Sprintf("the rule for %s would take %s %s from %s", describe(fresh[0].Rules[got.Rule]), r.req.Method, r.req.Path,
						policymatch.RouteID(old[r.res.Route], r.res.Rule))
				}
			}
		}
		if len(taking) == 0 {
			out.covered = 0
			for i := range st.missed {
				if got := after.Match(&st.missed[i]); got.Outcome == policymatch.Matched && got.Route == len(old) {
					out.covered++
				}
			}
			return out
		}
		// Map the offending rules (indexes among the kept rules) back to
		// generated indexes, drop them, and check again.
		kept := 0
		total := out.rules + len(drop)
		for gi := 0; gi < total; gi++ {
			if drop[gi] {
				continue
			}
			if why, ok := taking[kept]; ok {
				drop[gi] = true
				out.dropped = append(out.dropped, why)
			}
			kept++
		}
	}
}

// describe names a generated rule by its only match.
func describe(r dpolicy.Rule) string {
	if len(r.Matches) == 0 {
		return "every request"
	}
	m := r.Matches[0]
	if m.RPC != nil {
		return "/" + m.RPC.Service + "/" + m.RPC.Method
	}
	return strings.TrimSpace(m.Method + " " + m.Path)
}

func without[T any](rules []T, drop map[int]bool) []T {
	if len(drop) == 0 {
		return rules
	}
	var out []T
	for i, r := range rules {
		if !drop[i] {
			out = append(out, r)
		}
	}
	return out
}

func countOf(groups []template.Group) int {
	n := 0
	for _, g := range groups {
		n += g.Count
	}
	return n
}

// printPolicyYAML prints the proposal for one Service port in policy mode.
func (o *Options) printPolicyYAML(w io.Writer, svc Service, k tapprofile.Key, st *policyState, groups []template.Group) error {
	pr := o.propose(k, st, groups)
	total := 0
	for _, g := range groups {
		total += g.Count
	}
	what := fmt.Sprintf("Service %s/%s port %d", svc.Namespace, svc.Name, k.Port)
	if pr.err != nil {
		fmt.Fprintf(w, "# %s: %s\n", cli.Escape(what), cli.Escape(pr.err.Error()))
		fmt.Fprintf(o.Streams.ErrOut, "warning: %s: %s\n", cli.Escape(what), cli.Escape(pr.err.Error()))
		return nil
	}
	fmt.Fprintf(w, "# %s with %d rule(s) covering %d of %d request(s) to %s that got the proxy's own 404 (no rule matched), from kubectl profiles unmatched.\n",
		pr.kind, pr.rules, pr.covered, total, cli.Escape(what))
	fmt.Fprintf(w, "# Verified by re-matching the run's requests against the served routes plus this one: the %d request(s) already routed keep their rule.\n", len(st.routed))
	if st.overRouted > 0 || st.overMissed > 0 {
		fmt.Fprintf(w, "# Only the first %d routed and %d 404 requests were kept for that check (%d and %d more were not).\n", maxKept, maxKept, st.overRouted, st.overMissed)
	}
	for _, d := range pr.dropped {
		fmt.Fprintf(w, "# Left out: %s.\n", cli.Escape(d))
	}
	if pr.unexpressed > 0 {
		fmt.Fprintf(w, "# %d request(s) have a path that is not /<service>/<method>: no GRPCRoute rule is proposed for them.\n", pr.unexpressed)
	}
	cov := template.CoverageOf(groups)
	if cov.Other > 0 || cov.CatchAll > 0 {
		fmt.Fprintf(w, "# %d request(s) fell into \"%s %s\" or have an overlong first path segment: no rule is proposed for them; narrow the run (--path, --method) and run again.\n",
			cov.Other+cov.CatchAll, template.OtherMethod, template.OtherTemplate)
	}
	fmt.Fprintf(w, "# Review before applying.\n")
	if pr.rules == 0 {
		return nil
	}
	// As a manifest: no status, no creationTimestamp.
	js, err := json.Marshal(pr.object)
	if err != nil {
		return err
	}
	var tree map[string]any
	if err := json.Unmarshal(js, &tree); err != nil {
		return err
	}
	delete(tree, "status")
	if md, ok := tree["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	var out bytes.Buffer
	if err := cli.WriteYAML(&out, tree); err != nil {
		return err
	}
	_, err = w.Write(out.Bytes())
	return err
}
