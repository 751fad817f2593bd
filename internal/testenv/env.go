package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Users are the unprivileged token users every Env knows, besides "admin".
// They are only in the system:authenticated group, so they can do nothing
// until a test grants them RBAC.
var Users = []string{"alice", "bob", "carol"}

// AdminUser is in system:masters.
const AdminUser = "admin"

// Options tunes Start. The zero value is what most tests want.
type Options struct {
	// SkipServiceProfileCRD leaves serviceprofiles.linkerd.io out, for tests
	// of "CRD not installed" handling.
	SkipServiceProfileCRD bool
	// ExtraCRDs are more YAML manifests (usually CRDs, any kind works)
	// applied after the built-in ones; Start waits until their CRDs are
	// established and discoverable.
	ExtraCRDs []string
	// LogDir keeps etcd.log and kube-apiserver.log after Stop, in a
	// subdirectory per Env (see Env.LogDir). Default:
	// $KUBECTL_PROFILES_TESTENV_LOGDIR, else the temporary directory.
	LogDir string
	// StartTimeout bounds the wait for readiness. Default:
	// $KUBECTL_PROFILES_TESTENV_TIMEOUT, else 60s.
	StartTimeout time.Duration
}

// Env is a running etcd + kube-apiserver pair.
type Env struct {
	// Config is the admin identity (system:masters).
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file, for subprocesses.
	Kubeconfig string
	Clientset  kubernetes.Interface
	Dynamic    dynamic.Interface
	// Host is the apiserver URL, https://127.0.0.1:<port>.
	Host string
	// CAData is the PEM CA that signed the apiserver's serving certificate
	// (and the certificates of ServerTLSConfig).
	CAData []byte
	// FrontProxyCA is the PEM CA of the client certificate the aggregation
	// layer presents to extension API servers.
	FrontProxyCA []byte
	// Dir is the temporary directory (certificates, kubeconfigs, etcd data),
	// removed by Stop. LogDir holds the process logs.
	Dir, LogDir string
	// StartedIn is how long Start took.
	StartedIn time.Duration

	certs   *certSet
	tokens  map[string]string
	etcd    *process
	kas     *process
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	kcMu    sync.Mutex
	kcPaths map[string]string // user -> kubeconfig already written
	stopped sync.Once
	stopErr error
}

// Start runs etcd and kube-apiserver on free loopback ports, installs the
// CRDs and the "linkerd" namespace, and returns once all of it is usable.
// Call Stop when done, also after errors from later calls.
func Start(ctx context.Context, opts Options) (*Env, error) {
	began := time.Now()
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	timeout, err := startTimeout(opts.StartTimeout)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	removeStaleDirs()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	// Lets a later Start remove this directory if we die without Stop.
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	e := &Env{Dir: dir, LogDir: dir, tokens: map[string]string{}}
	// A subdirectory per Env: several Envs may share one log directory.
	if opts.LogDir != "" {
		e.LogDir = filepath.Join(opts.LogDir, filepath.Base(dir))
	} else if d := os.Getenv("KUBECTL_PROFILES_TESTENV_LOGDIR"); d != "" {
		e.LogDir = filepath.Join(d, filepath.Base(dir))
	}
	if err := e.start(ctx, bin, opts); err != nil {
		e.abort()
		return nil, err
	}
	e.StartedIn = time.Since(began)
	return e, nil
}

func (e *Env) start(ctx context.Context, bin string, opts Options) error {
	if err := os.MkdirAll(e.LogDir, 0o755); err != nil {
		return fmt.Errorf("testenv: log dir: %w", err)
	}
	if err := e.writeFiles(); err != nil {
		return err
	}

	// A free port found by probing can be taken by a parallel test binary
	// before our child binds it; start again on new ports when that happens.
	for attempt := 1; ; attempt++ {
		err := e.startProcesses(ctx, bin, attempt)
		if err == nil {
			break
		}
		retry := errors.Is(err, errPortTaken) && attempt < 5 && ctx.Err() == nil
		if !retry {
			return err
		}
	}

	if err := e.buildClients(); err != nil {
		return err
	}
	base := []string{"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: linkerd\n"}
	crds, err := builtinCRDs(opts.SkipServiceProfileCRD)
	if err != nil {
		return err
	}
	return e.Apply(ctx, append(append(base, crds...), opts.ExtraCRDs...)...)
}

// abort cleans up after a failed start but keeps the process logs, which
// the error message points to, until a Start after this process ends.
func (e *Env) abort() {
	_ = e.kas.stop()
	_ = e.etcd.stop()
	if e.LogDir != e.Dir {
		_ = os.RemoveAll(e.Dir)
		return
	}
	entries, _ := os.ReadDir(e.Dir)
	for _, ent := range entries {
		if !strings.HasSuffix(ent.Name(), ".log") && ent.Name() != "owner.pid" {
			_ = os.RemoveAll(filepath.Join(e.Dir, ent.Name()))
		}
	}
}

// Stop kills both processes and removes the temporary directory. It is safe
// to call more than once.
func (e *Env) Stop() error {
	e.stopped.Do(func() {
		errs := []error{e.kas.stop(), e.etcd.stop()}
		if err := os.RemoveAll(e.Dir); err != nil {
			errs = append(errs, fmt.Errorf("testenv: removing %s: %w", e.Dir, err))
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}

func startTimeout(fromOpts time.Duration) (time.Duration, error) {
	if fromOpts > 0 {
		return fromOpts, nil
	}
	v := os.Getenv("KUBECTL_PROFILES_TESTENV_TIMEOUT")
	if v == "" {
		return 60 * time.Second, nil
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("testenv: KUBECTL_PROFILES_TESTENV_TIMEOUT=%q is not a duration (try 90s)", v)
}

func (e *Env) path(name string) string { return filepath.Join(e.Dir, name) }

// writeFiles writes certificates, keys and the token file for the apiserver.
func (e *Env) writeFiles() error {
	cs, err := newCertSet()
	if err != nil {
		return err
	}
	e.certs = cs
	e.CAData = cs.serverCA.certPEM
	e.FrontProxyCA = cs.frontCA.certPEM
	saPub, err := cs.saKey.publicKeyPEM()
	if err != nil {
		return err
	}
	var tokens strings.Builder
	for _, u := range append([]string{AdminUser}, Users...) {
		e.tokens[u] = u + "-" + randomHex(12)
		// token,user,uid[,"group1,group2"]: an empty fourth column would
		// become a group named "".
		fmt.Fprintf(&tokens, "%s,%s,%s", e.tokens[u], u, u)
		if u == AdminUser {
			tokens.WriteString(`,"system:masters"`)
		}
		tokens.WriteString("\n")
	}
	files := map[string][]byte{
		"serving.crt":        cs.serving.certPEM,
		"serving.key":        cs.serving.keyPEM,
		"front-proxy-ca.crt": cs.frontCA.certPEM,
		"proxy-client.crt":   cs.proxyClient.certPEM,
		"proxy-client.key":   cs.proxyClient.keyPEM,
		"sa.key":             cs.saKey.keyPEM,
		"sa.pub":             saPub,
		"tokens.csv":         []byte(tokens.String()),
	}
	for name, data := range files {
		if err := os.WriteFile(e.path(name), data, 0o600); err != nil {
			return fmt.Errorf("testenv: %w", err)
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

var errPortTaken = errors.New("port already in use")

// pickPorts is freePorts; tests replace it to force a clash.
var pickPorts = freePorts

// startProcesses starts etcd, then kube-apiserver, and waits for both.
func (e *Env) startProcesses(ctx context.Context, bin string, attempt int) error {
	_ = e.kas.stop()
	_ = e.etcd.stop()
	ports, err := pickPorts(3)
	if err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	dataDir := e.path(fmt.Sprintf("etcd-%d", attempt))
	e.etcd, err = startProcess("etcd", filepath.Join(bin, "etcd"), []string{
		"--name=testenv",
		"--data-dir=" + dataDir,
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=testenv=" + peerURL,
		"--unsafe-no-fsync", // test data: durability is pointless, speed is not
		"--log-level=warn",
	}, filepath.Join(e.LogDir, "etcd.log"))
	if err != nil {
		return err
	}
	if err := waitFor(ctx, e.etcd, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, etcdURL+"/health")
	}); err != nil {
		return err
	}

	e.Host = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	e.kas, err = startProcess("kube-apiserver", filepath.Join(bin, "kube-apiserver"), []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ports[2]),
		// Not loopback: the apiserver publishes this address in the
		// "kubernetes" EndpointSlice, and loopback addresses fail validation.
		// Nothing connects to it. 192.0.2.0/24 is reserved for documentation.
		"--advertise-address=192.0.2.1",
		"--cert-dir=" + e.path("certs"),
		"--tls-cert-file=" + e.path("serving.crt"),
		"--tls-private-key-file=" + e.path("serving.key"),
		"--token-auth-file=" + e.path("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + e.path("sa.pub"),
		"--service-account-signing-key-file=" + e.path("sa.key"),
		// No controller-manager creates default service accounts, so Pods
		// could not be created with this admission plugin on.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		// Aggregation layer (front proxy).
		"--requestheader-client-ca-file=" + e.path("front-proxy-ca.crt"),
		"--requestheader-allowed-names=" + frontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + e.path("proxy-client.crt"),
		"--proxy-client-key-file=" + e.path("proxy-client.key"),
		"--profiling=false",
	}, filepath.Join(e.LogDir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	cfg := e.ConfigFor(AdminUser)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	return waitFor(ctx, e.kas, func(ctx context.Context) error {
		return httpOK(ctx, hc, e.Host+"/readyz")
	})
}

// waitFor polls check until it succeeds, the process dies or ctx ends; the
// error then carries the tail of the process log.
func waitFor(ctx context.Context, p *process, check func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if p.bindFailed() { // exits, or for some binaries retries for a while
			_ = p.stop()
			return fmt.Errorf("testenv: %s: %w", p.name, errPortTaken)
		}
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			if p.bindFailed() {
				return fmt.Errorf("testenv: %s: %w", p.name, errPortTaken)
			}
			return fmt.Errorf("testenv: %s exited during startup (%v); last lines of %s:\n%s", p.name, p.err, p.logPath, p.logTail(30))
		case <-ctx.Done():
			if p.bindFailed() {
				return fmt.Errorf("testenv: %s: %w", p.name, errPortTaken)
			}
			return fmt.Errorf("testenv: %s not ready in time (%v; raise KUBECTL_PROFILES_TESTENV_TIMEOUT if the machine is slow); last lines of %s:\n%s",
				p.name, last, p.logPath, p.logTail(30))
		case <-tick.C:
		}
	}
}

func httpOK(ctx context.Context, hc *http.Client, url string) error {
	// Short: whoever else holds a clashing port may never answer.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func (e *Env) buildClients() error {
	e.Config = e.ConfigFor(AdminUser)
	var err error
	if e.Clientset, err = kubernetes.NewForConfig(e.Config); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	if e.Dynamic, err = dynamic.NewForConfig(e.Config); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(e.Config)
	if err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	e.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	e.Kubeconfig, err = e.KubeconfigFor(AdminUser)
	return err
}

// ConfigFor returns a client config for user: "admin" and the names in
// Users authenticate with their own tokens; any other name is the admin
// impersonating that user (group system:authenticated), so RBAC applies
// exactly as for a real user of that name.
func (e *Env) ConfigFor(user string) *rest.Config {
	cfg := &rest.Config{
		Host:            e.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.CAData},
		QPS:             200, // tests are bursty; client-side throttling only slows them
		Burst:           400,
		UserAgent:       "kubectl-profiles-testenv",
	}
	if tok, ok := e.tokens[user]; ok {
		cfg.BearerToken = tok
	} else {
		cfg.BearerToken = e.tokens[AdminUser]
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	}
	return cfg
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// KubeconfigFor writes a kubeconfig file for user (see ConfigFor) with
// namespace "default" and returns its path.
func (e *Env) KubeconfigFor(user string) (string, error) {
	if user == "" {
		return "", errors.New("testenv: KubeconfigFor needs a user name")
	}
	e.kcMu.Lock()
	defer e.kcMu.Unlock()
	if p, ok := e.kcPaths[user]; ok {
		return p, nil
	}
	cfg := e.ConfigFor(user)
	auth := &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	if cfg.Impersonate.UserName != "" {
		auth.Impersonate = cfg.Impersonate.UserName
		auth.ImpersonateGroups = cfg.Impersonate.Groups
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["testenv"] = &clientcmdapi.Cluster{Server: e.Host, CertificateAuthorityData: e.CAData}
	kc.AuthInfos[user] = auth
	kc.Contexts["testenv"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: user, Namespace: "default"}
	kc.CurrentContext = "testenv"
	// The index keeps names that sanitize alike ("a/b", "a_b") apart.
	name := fmt.Sprintf("%s-%d.kubeconfig", unsafeFileChars.ReplaceAllString(user, "_"), len(e.kcPaths))
	path := e.path(name)
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("testenv: writing kubeconfig: %w", err)
	}
	if e.kcPaths == nil {
		e.kcPaths = map[string]string{}
	}
	e.kcPaths[user] = path
	return path, nil
}
