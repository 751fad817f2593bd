package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// retry.linkerd.io/limit or /timeout without conditions: nothing is
// retried on status (reference §7.2).
var _ = register(Analyzer{
	Name:  "retry-without-conditions",
	Codes: []string{CodeRetryWithoutConditions},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		pol := f.PolicyPath.Expected.Policy
		if pol == nil {
			return
		}
		for _, r := range pol.Routes {
			for ri, rule := range r.Rules {
				if rule.Retry == nil || len(rule.Retry.Conditions) > 0 {
					continue
				}
				where := "the Service's annotations"
				if rule.Sources != nil && rule.Sources.Retry == dpolicy.SourceRouteAnnotation {
					where = "the route's annotations"
				}
				cond := "retry.linkerd.io/http (e.g. \"5xx\")"
				if r.Kind == "GRPCRoute" {
					cond = "retry.linkerd.io/grpc (e.g. \"unavailable\")"
				}
				e.At(CodeRetryWithoutConditions, nil, "%s rule %d: %s set a retry limit or timeout but no conditions, so no response is retried (only connection errors); add %s",
					routeLabel(r.Kind, r.Namespace, r.Name, r.Default), ri, where, cond)
			}
		}
	},
})
