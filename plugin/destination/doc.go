// Package destination talks to Linkerd's destination service the way a proxy
// does: GetProfile with a context token, first message only, always bounded
// by a timeout.
package destination

import (
	_ "github.com/linkerd/linkerd2-proxy-api/go/destination"
	_ "github.com/olekukonko/tablewriter"
	_ "google.golang.org/grpc"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/tools/portforward"
	_ "k8s.io/client-go/transport/spdy"
	_ "k8s.io/cli-runtime/pkg/resource"
)
