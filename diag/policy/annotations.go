package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Annotation names read by the policy controller (reference §7.1, §8).
const (
	AnnotationTimeoutRequest  = "timeout.linkerd.io/request"
	AnnotationTimeoutResponse = "timeout.linkerd.io/response"
	AnnotationTimeoutIdle     = "timeout.linkerd.io/idle"
	AnnotationRetryLimit      = "retry.linkerd.io/limit"
	AnnotationRetryTimeout    = "retry.linkerd.io/timeout"
	AnnotationRetryHTTP       = "retry.linkerd.io/http"
	AnnotationRetryGRPC       = "retry.linkerd.io/grpc"

	AnnotationFailureAccrual             = "balancer.linkerd.io/failure-accrual"
	AnnotationConsecutiveMax             = "balancer.linkerd.io/failure-accrual-consecutive-max-failures"
	AnnotationConsecutiveMaxPen          = "balancer.linkerd.io/failure-accrual-consecutive-max-penalty"
	AnnotationConsecutiveMinPen          = "balancer.linkerd.io/failure-accrual-consecutive-min-penalty"
	AnnotationConsecutiveJitter          = "balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio"
	AnnotationSuccessRateThresh          = "balancer.alpha.linkerd.io/failure-accrual-success-rate-threshold"
	AnnotationSuccessRateWindow          = "balancer.alpha.linkerd.io/failure-accrual-success-rate-window"
	AnnotationSuccessRateMinReqs         = "balancer.alpha.linkerd.io/failure-accrual-success-rate-min-requests"
	AnnotationPenalizeFailures           = "balancer.alpha.linkerd.io/penalize-failures"
	AnnotationAppProtocolOpaque          = "linkerd.io/opaque"
	AnnotationAppProtocolTCP             = "linkerd.io/tcp"
	AppProtocolHTTP                      = "http"
	AppProtocolH2C                       = "kubernetes.io/h2c"
	defaultDetectTimeout                 = 10 * time.Second
	retryMaxRequestBytes                 = 65536
	retryBackoffMin                      = 25 * time.Millisecond
	retryBackoffMax                      = 250 * time.Millisecond
	retryBackoffJitter           float32 = 1.0
)

// ParseDuration is the controller's annotation duration grammar (§7.1):
// after trimming, one non-negative integer and exactly one unit of ms, s,
// m, h or d; a bare "0" is allowed. "1.5s", "1m30s", "500", "-1s" and
// "10 s" are rejected.
func ParseDuration(s string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	if v == "0" {
		return 0, nil
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a duration: want an integer and a unit (ms, s, m, h, d), e.g. 500ms", s)
	}
	n, err := strconv.ParseUint(v[:i], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: %v", s, err)
	}
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := units[v[i:]]
	if !ok {
		return 0, fmt.Errorf("%q is not a duration: want an integer and one unit of ms, s, m, h or d (no fractions, no compound values)", s)
	}
	d := time.Duration(n) * u
	if d/u != time.Duration(n) {
		return 0, fmt.Errorf("%q is not a duration: too large", s)
	}
	return d, nil
}

// timeoutsFrom parses the three timeout annotations. Any error fails the
// whole group (§8: a bad idle drops all three).
func timeoutsFrom(ann map[string]string) (Timeouts, error) {
	var t Timeouts
	for _, x := range []struct {
		key string
		out *string
	}{{AnnotationTimeoutRequest, &t.Request}, {AnnotationTimeoutResponse, &t.Response}, {AnnotationTimeoutIdle, &t.Idle}} {
		v, ok := ann[x.key]
		if !ok {
			continue
		}
		d, err := ParseDuration(v)
		if err != nil {
			return Timeouts{}, fmt.Errorf("%s: %v", x.key, err)
		}
		*x.out = FormatDuration(d)
	}
	return t, nil
}

// retryFrom parses a retry policy from annotations: conditionKey is
// retry.linkerd.io/http or /grpc. It returns nil when none of limit,
// timeout and the condition annotation is present (§7.2 step 4).
func retryFrom(ann map[string]string, conditionKey string) (*Retry, error) {
	lim, hasLim := ann[AnnotationRetryLimit]
	to, hasTo := ann[AnnotationRetryTimeout]
	cond, hasCond := ann[conditionKey]
	if !hasLim && !hasTo && !hasCond {
		return nil, nil
	}
	r := &Retry{Limit: 1, Conditions: []string{}, MaxRequestBytes: retryMaxRequestBytes,
		Backoff: &Backoff{Min: FormatDuration(retryBackoffMin), Max: FormatDuration(retryBackoffMax), Jitter: retryBackoffJitter}}
	if hasLim {
		n, err := strconv.ParseUint(strings.TrimSpace(lim), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer in 0..65535", AnnotationRetryLimit, lim)
		}
		if n != 0 {
			r.Limit = uint32(n)
		}
	}
	if hasTo {
		d, err := ParseDuration(to)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", AnnotationRetryTimeout, err)
		}
		if d != 0 {
			r.Timeout = FormatDuration(d)
		}
	}
	if hasCond {
		var err error
		if conditionKey == AnnotationRetryHTTP {
			r.Conditions, err = httpConditions(cond)
		} else {
			r.Conditions, err = grpcConditions(cond)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", conditionKey, err)
		}
	}
	return r, nil
}

// httpConditions parses retry.linkerd.io/http: 5xx, gateway-error, NNN or
// a-b, comma separated, no spaces, codes within 100..599.
func httpConditions(v string) ([]string, error) {
	out := []string{}
	code := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n < 100 || n > 599 {
			return 0, fmt.Errorf("%q is not a status code in 100..599 (no spaces allowed)", s)
		}
		return uint32(n), nil
	}
	for _, part := range strings.Split(v, ",") {
		switch strings.ToLower(part) {
		case "5xx":
			out = append(out, StatusRange(500, 599))
			continue
		case "gateway-error":
			out = append(out, StatusRange(502, 504))
			continue
		}
		if a, b, ok := strings.Cut(part, "-"); ok {
			x, err := code(a)
			if err != nil {
				return nil, err
			}
			y, err := code(b)
			if err != nil {
				return nil, err
			}
			if x > y {
				return nil, fmt.Errorf("range %q is backwards", part)
			}
			out = append(out, StatusRange(x, y))
			continue
		}
		c, err := code(part)
		if err != nil {
			return nil, err
		}
		out = append(out, StatusRange(c, c))
	}
	return out, nil
}

// grpcCodes is the order the converter lists gRPC conditions in.
var grpcCodes = []string{"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"}

func grpcConditions(v string) ([]string, error) {
	set := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		p := strings.ToLower(part)
		known := false
		for _, c := range grpcCodes {
			if c == p {
				known = true
			}
		}
		if !known {
			return nil, fmt.Errorf("%q is not one of %s", part, strings.Join(grpcCodes, ", "))
		}
		set[p] = true
	}
	out := []string{}
	for _, c := range grpcCodes {
		if set[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// accrualFrom parses the failure-accrual annotations (§8); nil when absent.
func accrualFrom(ann map[string]string) (*FailureAccrual, error) {
	mode, ok := ann[AnnotationFailureAccrual]
	if !ok {
		return nil, nil
	}
	if mode != "consecutive" && mode != "unified" {
		return nil, fmt.Errorf("%s: %q is neither consecutive nor unified", AnnotationFailureAccrual, mode)
	}
	fa := &FailureAccrual{Kind: mode, MaxFailures: 7}
	if v, ok := ann[AnnotationConsecutiveMax]; ok {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", AnnotationConsecutiveMax, v)
		}
		fa.MaxFailures = uint32(n)
	}
	minPen, maxPen := time.Second, time.Minute
	for _, x := range []struct {
		key string
		out *time.Duration
	}{{AnnotationConsecutiveMinPen, &minPen}, {AnnotationConsecutiveMaxPen, &maxPen}} {
		if v, ok := ann[x.key]; ok {
			d, err := ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", x.key, err)
			}
			*x.out = d
		}
	}
	if maxPen == 0 || minPen > maxPen {
		return nil, fmt.Errorf("failure accrual penalties: min %s must be ≤ max %s and max > 0", minPen, maxPen)
	}
	jitter := float32(0.5)
	if v, ok := ann[AnnotationConsecutiveJitter]; ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 32)
		if err != nil || f < 0 || f > 100 {
			return nil, fmt.Errorf("%s: %q is not a number in 0..100", AnnotationConsecutiveJitter, v)
		}
		jitter = float32(f)
	}
	fa.Backoff = &Backoff{Min: FormatDuration(minPen), Max: FormatDuration(maxPen), Jitter: jitter}
	if mode == "unified" {
		fa.SuccessRateThreshold, fa.Decay, fa.MinRequests = 0.8, FormatDuration(10*time.Second), 5
		if v, ok := ann[AnnotationSuccessRateThresh]; ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				return nil, fmt.Errorf("%s: %q is not a number in 0..1", AnnotationSuccessRateThresh, v)
			}
			fa.SuccessRateThreshold = f
		}
		window := 10 * time.Second
		if v, ok := ann[AnnotationSuccessRateWindow]; ok {
			d, err := ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", AnnotationSuccessRateWindow, err)
			}
			window = d
		}
		if v, ok := ann[AnnotationSuccessRateMinReqs]; ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an integer", AnnotationSuccessRateMinReqs, v)
			}
			fa.MinRequests = uint32(n)
		}
		if fa.SuccessRateThreshold != 0 && (window < 10*time.Millisecond || fa.MinRequests > 1000000) {
			return nil, fmt.Errorf("unified failure accrual: window must be ≥ 10ms and min-requests ≤ 1000000")
		}
		fa.Decay = FormatDuration(window)
	}
	return fa, nil
}

// penalize reads balancer.alpha.linkerd.io/penalize-failures with Go's
// ParseBool tokens; a bad value counts as absent.
func penalize(ann map[string]string) (bool, error) {
	v, ok := ann[AnnotationPenalizeFailures]
	if !ok {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("%s: %q is not a boolean", AnnotationPenalizeFailures, v)
	}
	return b, nil
}
