package tapclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
)

// ErrorHeader is the response header the tap server sets when the body is a
// framed ApiError instead of events (the status stays 200).
const ErrorHeader = "linkerd-error"

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// Client talks to the tap.linkerd.io APIService through kube-apiserver.
type Client struct {
	hc   *http.Client
	base *url.URL
	// HeaderWait bounds how long Watch waits for the response headers before
	// handing back the Stream anyway. The tap server sends its headers with
	// the first event, so a quiet target would otherwise block Watch; errors
	// (RBAC, linkerd-error) always come back at once. Default 3s.
	HeaderWait time.Duration
	// TapAdminRole is the ClusterRole named in RBAC hints; set it when viz
	// lives outside the linkerd-viz namespace.
	TapAdminRole string
}

// New builds a Client from a rest.Config. The transport comes from
// rest.TransportFor, so kubeconfig auth, exec plugins, TLS settings and
// impersonation all apply; the http.Client has no overall timeout because a
// tap stream lasts until it is cancelled.
func New(cfg *rest.Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("tapclient: nil rest.Config")
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes transport: %w", err)
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("parsing the API server address %q: %w", cfg.Host, err)
	}
	return &Client{
		hc:         &http.Client{Transport: rt},
		base:       base,
		HeaderWait: 3 * time.Second,
	}, nil
}

// urlFor appends p (already escaped) to the server URL's own path, so host
// path prefixes (proxies such as Rancher's) keep working.
func (c *Client) urlFor(p string) string {
	u := *c.base
	escaped := strings.TrimSuffix(u.EscapedPath(), "/") + p
	if unescaped, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = unescaped, escaped
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

func connError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("cannot reach the Kubernetes API server: %w (check your kubeconfig context)", err)
}

// item is what the reader goroutine hands to Next.
type item struct {
	ev  *Event
	err error
}

// Stream is an open tap. Next is not safe for concurrent use; Close may be
// called from any goroutine.
type Stream struct {
	ctx    context.Context // the caller's context
	cancel context.CancelFunc
	items  chan item
	ready  chan error // the header check result, exactly once
	done   chan struct{}
	once   sync.Once
	idle   time.Duration
	timer  *time.Timer
	err    error // sticky terminal error
	// sent: the request reached the API server. A quiet tap gets no
	// response headers until its first event, so this is what tells a quiet
	// tap from an API server that never answered.
	sent atomic.Bool
}

// ErrNotSent is returned when the caller's deadline passes before the tap
// request could even be sent: the API server is unreachable or hung.
var ErrNotSent = errors.New("the API server did not take the tap request before the deadline: check --context/--kubeconfig and that the cluster is reachable")

// watchEndErr is Watch's error when the context ended first.
func (s *Stream) watchEndErr() error {
	if err := s.endErr(); err != io.EOF {
		return err
	}
	return s.ctx.Err()
}

// endErr is how a stream ends when its context is done: cleanly, unless a
// deadline passed before the request was ever sent.
func (s *Stream) endErr() error {
	if errors.Is(s.ctx.Err(), context.DeadlineExceeded) && !s.sent.Load() {
		return ErrNotSent
	}
	return io.EOF
}

// SetIdleTimeout makes Next return ErrIdle when no event arrives within d
// (0 disables it). The stream stays open; the caller may keep waiting.
func (s *Stream) SetIdleTimeout(d time.Duration) { s.idle = d }

// Watch starts a tap. It POSTs req to the watch URL and returns once the
// response headers have been checked: a linkerd-error header first (the
// server's message, e.g. no pods to tap), then the status code (RBAC,
// not installed, unavailable). If the headers have not arrived within
// HeaderWait the Stream is returned anyway and any error comes from Next.
func (c *Client) Watch(ctx context.Context, req Request) (*Stream, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	s := &Stream{
		ctx:   ctx,
		items: make(chan item, 32),
		ready: make(chan error, 1),
		done:  make(chan struct{}),
	}
	sctx, cancel := context.WithCancel(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				s.sent.Store(true)
			}
		},
	}))
	s.cancel = cancel
	hreq, err := http.NewRequestWithContext(sctx, http.MethodPost, c.urlFor(req.URLPath()), bytes.NewReader(req.Marshal()))
	if err != nil {
		cancel()
		return nil, err
	}
	go s.run(c, hreq, &req)

	wait := c.HeaderWait
	if wait <= 0 {
		wait = 3 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-s.ready:
		if err != nil {
			s.Close()
			if ctx.Err() != nil {
				return nil, s.watchEndErr()
			}
			return nil, err
		}
	case <-t.C:
	case <-ctx.Done():
		if s.sent.Load() {
			// A quiet tap whose run ended: Next reports the clean end.
			return s, nil
		}
		s.Close()
		return nil, s.watchEndErr()
	}
	return s, nil
}

// run does the request and then reads frames until the body ends, sending
// decoded events to Next.
func (s *Stream) run(c *Client, hreq *http.Request, req *Request) {
	defer close(s.items)
	rsp, err := c.hc.Do(hreq)
	if err != nil {
		err = connError(err)
		s.ready <- err
		s.send(item{err: err})
		return
	}
	defer rsp.Body.Close()
	if err := checkResponse(rsp, req, c.TapAdminRole); err != nil {
		s.ready <- err
		s.send(item{err: err})
		return
	}
	s.ready <- nil

	br := bufio.NewReaderSize(rsp.Body, 32<<10)
	var dec Decoder
	var buf []byte
	for {
		frame, err := readFrame(br, MaxFrameSize, buf)
		if err != nil {
			s.send(item{err: err})
			return
		}
		buf = frame[:0]
		ev, err := dec.Decode(frame)
		if !s.send(item{ev: ev, err: err}) || err != nil {
			return
		}
	}
}

func (s *Stream) send(it item) bool {
	select {
	case s.items <- it:
		return true
	case <-s.done:
		return false
	}
}

// checkResponse applies linkerd's order: the linkerd-error header first,
// then the status code.
func checkResponse(rsp *http.Response, req *Request, role string) error {
	if h := rsp.Header.Get(ErrorHeader); h != "" {
		frame, err := ReadFrame(io.LimitReader(rsp.Body, maxErrorBody), maxErrorBody)
		if err != nil {
			return &Error{Reason: ReasonServer, Code: 0,
				Message: fmt.Sprintf("the tap server reported %q but its error body is unreadable (%v)", h, err)}
		}
		msg, err := DecodeAPIError(frame)
		if err != nil {
			return &Error{Reason: ReasonServer,
				Message: fmt.Sprintf("the tap server reported %q but its error body is not an ApiError (%v)", h, err)}
		}
		return &Error{Reason: ReasonServer, Message: msg}
	}
	if rsp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(rsp.Body, maxErrorBody))
		return errorFromResponse(rsp.StatusCode, body, req, role)
	}
	return nil
}

// Next returns the next event. It returns io.EOF when the stream ends
// cleanly, and also when the caller's context is cancelled or expires
// (Ctrl-C is a normal way to stop a tap; check ctx.Err() to tell them
// apart). With an idle timeout set it returns ErrIdle after that long
// without an event, and may be called again.
func (s *Stream) Next() (*Event, error) {
	if s.err != nil {
		return nil, s.err
	}
	var idle <-chan time.Time
	if s.idle > 0 {
		if s.timer == nil {
			s.timer = time.NewTimer(s.idle)
		} else {
			s.timer.Reset(s.idle)
		}
		idle = s.timer.C
	}
	select {
	case it, ok := <-s.items:
		if s.timer != nil {
			s.timer.Stop()
		}
		switch {
		case !ok || s.ctx.Err() != nil || s.closed():
			// Errors caused by cancellation or Close are a clean end.
			s.err = s.endErr()
		case it.err != nil:
			s.err = it.err
		default:
			return it.ev, nil
		}
		s.Close()
		return nil, s.err
	case <-idle:
		return nil, ErrIdle
	case <-s.ctx.Done():
		s.err = s.endErr()
		s.Close()
		return nil, s.err
	}
}

func (s *Stream) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close ends the tap and releases the connection. It is safe to call more
// than once.
func (s *Stream) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.cancel()
	})
	return nil
}
