package get_test

// fixtures is the cluster the end-to-end tests run against. Each object
// exists for one behaviour; the comments say which.
const fixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: books}
---
apiVersion: v1
kind: Namespace
metadata: {name: foobar}
---
# webapp: a service-namespace profile, a client-side override in foobar,
# an attached HTTPRoute, and a route timeout that does not parse.
apiVersion: v1
kind: Service
metadata: {name: webapp, namespace: books}
spec:
  ports:
  - {name: http, port: 7000}
  - {name: admin, port: 7001}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
    timeout: 1s
    responseClasses:
    - condition: {status: {min: 500, max: 599}}
      isFailure: true
  - name: POST /books/{id}
    condition: {method: post, pathRegex: '/books/[^/]+'}
    isRetryable: true
    timeout: 10 s
  - name: everything else
    condition:
      any:
      - {method: DELETE}
      - {pathRegex: '/admin/.*'}
  retryBudget: {retryRatio: 0.5, minRetriesPerSecond: 5, ttl: 20s}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local, namespace: foobar}
spec:
  routes:
  - name: foobar view
    condition: {pathRegex: /.*}
    timeout: 250ms
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: webapp-routes, namespace: books}
spec:
  parentRefs:
  - {group: core, kind: Service, name: webapp, port: 7000}
---
# plain: no ServiceProfile at all.
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: books}
spec:
  ports: [{port: 80}]
---
# broken: a retry budget ttl that does not parse, so the destination is silent.
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: books}
spec:
  ports: [{port: 8080}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: broken.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /
    condition: {method: GET}
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: ten seconds}
---
# cache: an opaque port with HTTP routes.
apiVersion: v1
kind: Service
metadata:
  name: cache
  namespace: books
  annotations: {config.linkerd.io/opaque-ports: "6000"}
spec:
  ports: [{port: 6000}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: cache.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /stats
    condition: {method: GET, pathRegex: /stats}
---
# authors: a ServiceProfile whose name lacks the cluster domain.
apiVersion: v1
kind: Service
metadata: {name: authors, namespace: books}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: authors.books.svc, namespace: books}
spec:
  routes:
  - name: GET /authors
    condition: {method: GET, pathRegex: /authors}
---
# ext: ExternalName services have no profile.
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: books}
spec:
  type: ExternalName
  externalName: example.invalid
  ports: [{port: 80}]
---
# traffic: a client workload in foobar, for --from (no kubelet runs it: the
# pod is created directly with a node name).
apiVersion: apps/v1
kind: Deployment
metadata: {name: traffic, namespace: foobar}
spec:
  selector: {matchLabels: {app: traffic}}
  template:
    metadata: {labels: {app: traffic}}
    spec:
      containers: [{name: c, image: traffic}]
---
apiVersion: v1
kind: Pod
metadata:
  name: traffic-5d9c7b-x2x4q
  namespace: foobar
  labels: {app: traffic}
spec:
  nodeName: node-1
  containers: [{name: c, image: traffic}]
---
# risky: served by the destination, but partly dropped by the proxy.
apiVersion: v1
kind: Service
metadata: {name: risky, namespace: books}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: risky.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: lookahead
    condition: {pathRegex: '/x(?=y)'}
  - name: half range
    condition: {pathRegex: /h}
    responseClasses:
    - condition: {status: {min: 500}}
      isFailure: true
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 90s}
  dstOverrides:
  - {authority: risky.books.svc.cluster.local:80, weight: 1}
  - {authority: canary.books.svc.cluster.local:80, weight: 0}
`
