package analyze

import "github.com/kubectl-profiles/kubectl-profiles/diag/source"

// The retry budget's ratio: negative is rejected, above one is risky.
var _ = register(Analyzer{
	Name:  "retry-budget",
	Codes: []string{CodeRetryRatioNegative, CodeRetryRatioAboveOne},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		rb := f.Profile.Spec.RetryBudget
		if rb == nil {
			return
		}
		path := source.Path{"spec", "retryBudget", "retryRatio"}
		switch {
		case rb.RetryRatio < 0:
			e.At(CodeRetryRatioNegative, path, "retryRatio %v is negative: the sp-validator webhook rejects the profile (and the proxy would drop the budget); use a ratio such as 0.2", rb.RetryRatio)
		case rb.RetryRatio > 1 && rb.RetryRatio <= 1000:
			e.At(CodeRetryRatioAboveOne, path, "retryRatio %v allows %v retries per request: a failing service gets more retries than requests; keep it at or below 1 (0.2 is the default)", rb.RetryRatio, rb.RetryRatio)
		}
	},
})
