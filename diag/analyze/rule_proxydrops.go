package analyze

// What linkerd2-proxy drops from the profile it is sent: routes, parts of
// conditions, response classes, the retry budget, timeouts, dstOverrides.
var _ = register(Analyzer{
	Name: "proxy-drops",
	Codes: []string{CodeRouteDropped, CodeRegexDropped, CodeMatchDropped, CodeClassDropped, CodeStatusOneSided,
		CodeRetryBudgetDropped, CodeTimeoutNegative, CodeDstOverrideDropped, CodeNameDroppedByProxy},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		if f.Translated == nil || f.Kept == nil {
			return
		}
		negative := f.Profile.Spec.RetryBudget != nil && f.Profile.Spec.RetryBudget.RetryRatio < 0
		for _, l := range dropIssues(f.Translated, f.Kept, f.Drops) {
			switch {
			case l.f.Code == CodeRetryBudgetDropped && negative:
				continue // same cause, reported as retry-ratio-negative
			case l.f.Code == CodeNameDroppedByProxy && f.Lookup == nil:
				continue // a file's name is judged by the name analyzer; only a served name reaches the proxy
			}
			e.At(l.f.Code, l.path, "%s", l.f.Message)
		}
	},
})
