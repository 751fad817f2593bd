package get_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// auditStates are the states the audit must tell apart, by i % 5.
var auditStates = []string{"default", "service", "override", "silent", "empty"}

func auditFixtures(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: audit}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: audit-clients}\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%03d", i)
		fqdn := name + ".audit.svc.cluster.local"
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: audit}\nspec:\n  ports: [{port: 80}]\n", name)
		sp := func(ns, spec string) {
			fmt.Fprintf(&b, "---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: %s, namespace: %s}\nspec: %s\n", fqdn, ns, spec)
		}
		switch auditStates[i%5] {
		case "service":
			sp("audit", `{routes: [{name: own, condition: {pathRegex: /own}}]}`)
		case "override":
			sp("audit", `{routes: [{name: own, condition: {pathRegex: /own}}]}`)
			sp("audit-clients", `{routes: [{name: a, condition: {pathRegex: /a}}, {name: b, condition: {pathRegex: /b}}]}`)
		case "silent":
			sp("audit", `{routes: [{name: own, condition: {pathRegex: /own}}], retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1, ttl: soon}}`)
		case "empty":
			sp("audit", `{}`)
		}
	}
	return b.String()
}

func TestAuditMixedStates(t *testing.T) {
	setup(t)
	const n = 250
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := env.Apply(ctx, auditFixtures(n)); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := get(t, "-n", "audit", "--all-services", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var reports []jsonReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatal(err)
	}
	// One view per service, plus the audit-clients view of each override.
	if want := n + n/5; len(reports) != want {
		t.Fatalf("got %d reports, want %d", len(reports), want)
	}
	seen := map[string]bool{}
	for _, r := range reports {
		compactProfiles(t, &r)
		var i int
		if _, err := fmt.Sscanf(r.Service.Name, "svc-%03d", &i); err != nil {
			t.Fatalf("unexpected service %s", r.Service.Name)
		}
		state := auditStates[i%5]
		p := r.Ports[0]
		key := r.Service.Name + "@" + r.Client.Namespace
		if seen[key] {
			t.Errorf("%s reported twice", key)
		}
		seen[key] = true
		check := func(source, result string, drift int) {
			t.Helper()
			if p.InEffect.Source != source || p.Lookup.Result != result || len(p.Drift) != drift {
				t.Errorf("%s (%s): source %s result %s (%s) drift %d, want %s %s %d", key, state, p.InEffect.Source, p.Lookup.Result, p.Lookup.Error, len(p.Drift), source, result, drift)
			}
		}
		switch {
		case state == "default":
			check("default", "served", 0)
		case state == "service", state == "override" && r.Client.Namespace == "audit":
			check("service-namespace", "served", 0)
		case state == "override":
			check("client-namespace", "served", 0)
			if !strings.Contains(string(p.Served), `"route":"b"`) {
				t.Errorf("%s: override not served: %s", key, p.Served)
			}
		case state == "silent":
			check("service-namespace", "silent", 0)
			if !has(codes(p.Findings), "profile-unservable") {
				t.Errorf("%s: no profile-unservable finding", key)
			}
		case state == "empty":
			check("service-namespace", "served", 0)
			if !has(codes(p.Findings), "profile-without-routes") {
				t.Errorf("%s: no profile-without-routes finding", key)
			}
		}
	}
	// The audit reports what a single get reports for the same service.
	single := getJSON(t, "svc/webapp", "-n", "books")
	var fromAudit *jsonReport
	all, errOut, code := get(t, "-A", "-o", "json")
	if code != 0 {
		t.Fatalf("get -A: exit %d %s", code, errOut)
	}
	var audited []jsonReport
	if err := json.Unmarshal([]byte(all), &audited); err != nil {
		t.Fatal(err)
	}
	for i := range audited {
		if audited[i].Service.Name == "webapp" && audited[i].Client.Namespace == "books" {
			fromAudit = &audited[i]
		}
	}
	if fromAudit == nil {
		t.Fatal("books/webapp missing from get -A")
	}
	for i := range single.Ports {
		if a, b := strings.Join(codes(single.Ports[i].Findings), ","), strings.Join(codes(fromAudit.Ports[i].Findings), ","); a != b {
			t.Errorf("port %d: get says %s, get -A says %s", single.Ports[i].Port, a, b)
		}
	}

	// Without --all-services, Services with no profile anywhere are skipped.
	table, _, code := get(t, "-n", "audit")
	if code != 0 {
		t.Fatal(errOut)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if want := 1 + n*4/5 + n/5; len(lines) != want {
		t.Errorf("table has %d lines, want %d", len(lines), want)
	}
	if strings.Join(strings.Fields(lines[0]), " ") != "NAMESPACE SERVICE PORT CLIENT IN EFFECT MODE ROUTES DRIFT FINDINGS" {
		t.Errorf("header = %q", lines[0])
	}
}
