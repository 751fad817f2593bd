package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Unservable explains why the destination sends nothing for a profile.
func Unservable(err *translate.UnservableError, what string) finding.Finding {
	return finding.Finding{
		Code:       CodeUnservable,
		Level:      finding.Error,
		Route:      err.RouteName,
		RouteIndex: err.RouteIndex,
		Message: fmt.Sprintf("the control plane cannot translate %s (%s: %v): it sends nothing, so proxies keep their previous profile or get none; fix %s",
			what, err.Field, err.Err, err.Field),
	}
}

// TranslationNotes turns what the translation silently changed into findings.
func TranslationNotes(notes []translate.Note) []finding.Finding {
	var out []finding.Finding
	for _, n := range notes {
		out = append(out, finding.Finding{
			Code: CodeTimeoutUnparsable, Level: finding.Warning, Route: n.RouteName, RouteIndex: n.RouteIndex,
			Message: fmt.Sprintf("%s: %s; use a Go duration such as 500ms, 10s or 1m30s", n.Field, n.Message),
		})
	}
	return out
}
