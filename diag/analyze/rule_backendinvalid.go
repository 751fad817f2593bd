package analyze

import "fmt"

// A backend the controller cannot resolve becomes a failure injector: its
// share of the requests fails with 500 (reference §3.3).
var _ = register(Analyzer{
	Name:  "backend-invalid",
	Codes: []string{CodeBackendInvalid},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		pol := f.PolicyPath.ServedOrExpected()
		if pol == nil {
			return
		}
		for _, r := range pol.Routes {
			for ri, rule := range r.Rules {
				var total uint64
				for _, b := range rule.Backends {
					total += uint64(b.Weight)
				}
				for _, b := range rule.Backends {
					if b.Invalid == "" {
						continue
					}
					share := "all"
					if total > 0 && uint64(b.Weight) < total {
						share = fmt.Sprintf("%.4g%%", float64(b.Weight)*100/float64(total))
					}
					e.At(CodeBackendInvalid, nil, "%s rule %d: backend %s is invalid (%s): %s of its requests fail with HTTP 500; fix the backendRef",
						routeLabel(r.Kind, r.Namespace, r.Name, r.Default), ri, backendName(b.Ref.Namespace, b.Ref.Name, b.Ref.Port), b.Invalid, share)
				}
			}
		}
	},
})

func routeLabel(kind, ns, name, def string) string {
	if def != "" {
		return "default route " + def
	}
	return kind + " " + ns + "/" + name
}

func backendName(ns, name string, port uint32) string {
	if name == "" {
		return "(unnamed)"
	}
	if port == 0 {
		return ns + "/" + name
	}
	return fmt.Sprintf("%s/%s:%d", ns, name, port)
}
