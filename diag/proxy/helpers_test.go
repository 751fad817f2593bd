package proxy

import (
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Helpers that build DestinationProfile protos directly.

func path(re string) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_Path{Path: &destination.PathMatch{Regex: re}}}
}

func method(m http_types.HttpMethod_Registered) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_Method{Method: &http_types.HttpMethod{
		Type: &http_types.HttpMethod_Registered_{Registered: m}}}}
}

func methodStr(m string) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_Method{Method: &http_types.HttpMethod{
		Type: &http_types.HttpMethod_Unregistered{Unregistered: m}}}}
}

func all(ms ...*destination.RequestMatch) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_All{All: &destination.RequestMatch_Seq{Matches: ms}}}
}

func anyOf(ms ...*destination.RequestMatch) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_Any{Any: &destination.RequestMatch_Seq{Matches: ms}}}
}

func not(m *destination.RequestMatch) *destination.RequestMatch {
	return &destination.RequestMatch{Match: &destination.RequestMatch_Not{Not: m}}
}

func route(name string, cond *destination.RequestMatch, classes ...*destination.ResponseClass) *destination.Route {
	return &destination.Route{Condition: cond, MetricsLabels: map[string]string{"route": name}, ResponseClasses: classes}
}

func status(min, max uint32) *destination.ResponseMatch {
	return &destination.ResponseMatch{Match: &destination.ResponseMatch_Status{Status: &destination.HttpStatusRange{Min: min, Max: max}}}
}

func rspNot(m *destination.ResponseMatch) *destination.ResponseMatch {
	return &destination.ResponseMatch{Match: &destination.ResponseMatch_Not{Not: m}}
}

func rspAny(ms ...*destination.ResponseMatch) *destination.ResponseMatch {
	return &destination.ResponseMatch{Match: &destination.ResponseMatch_Any{Any: &destination.ResponseMatch_Seq{Matches: ms}}}
}

func class(failure bool, m *destination.ResponseMatch) *destination.ResponseClass {
	return &destination.ResponseClass{Condition: m, IsFailure: failure}
}

func profile(routes ...*destination.Route) *destination.DestinationProfile {
	return &destination.DestinationProfile{FullyQualifiedName: "books.default.svc.cluster.local", Routes: routes}
}

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
