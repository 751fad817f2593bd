// Package testenv runs a real kube-apiserver and etcd on loopback for
// end-to-end tests and demos: no kubelet and no controller-manager, so Pods
// never run, namespaces never finish deleting and nothing fills in
// EndpointSlices except the apiserver's own "kubernetes" Service.
//
// What Start gives you:
//   - an admin identity (user "admin", group system:masters) and fixed
//     unprivileged token users alice, bob and carol (group
//     system:authenticated), see ConfigFor and KubeconfigFor;
//   - RBAC authorization, so tests can check Forbidden errors;
//   - the aggregation layer wired to a generated front-proxy CA, so a test
//     HTTPS server can sit behind /apis/<group>/<version> (RegisterAPIService);
//   - the Linkerd CRDs the plugin and the destination service need
//     (serviceprofiles.linkerd.io, servers and httproutes in policy.linkerd.io,
//     externalworkloads.workload.linkerd.io, httproutes in
//     gateway.networking.k8s.io) and the "linkerd" namespace.
//
// The binaries are built from Go modules by .ci/testbin.sh (or `make testbin`).
// Environment variables:
//
//	KUBECTL_PROFILES_TESTBIN          directory that holds bin/kube-apiserver and bin/etcd
//	                                  (the same variable .ci/testbin.sh builds into);
//	                                  default ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-profiles/testbin-v1.34.1
//	KUBECTL_PROFILES_TESTENV_TIMEOUT  how long Start waits for readiness, a Go duration
//	                                  or a number of seconds (default 60s)
//	KUBECTL_PROFILES_TESTENV_LOGDIR   keep etcd.log and kube-apiserver.log under this directory
//	                                  (one subdirectory per Env) instead of the temporary
//	                                  one Stop removes
//
// In a package's tests:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{}, &env)) }
//
//	func TestSomething(t *testing.T) {
//		testenv.SkipIfShort(t)
//		...env.Apply(ctx, manifest)...
//	}
package testenv
