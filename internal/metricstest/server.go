package metricstest

import (
	"net"
	"net/http"
	"sync"
)

// Server serves one Proxy's admin endpoints (/metrics, /ready) on a
// listener, as the proxy's admin server does on port 4191.
type Server struct {
	Proxy *Proxy
	// Before runs before the n-th (0-based) /metrics answer, e.g. to add
	// traffic between two scrapes deterministically.
	Before func(n int, p *Proxy)
	// Deny answers /metrics with 403 and a plain-text body, as the proxy
	// does when its inbound policy refuses the scraper.
	Deny bool

	mu      sync.Mutex
	scrapes int
	srv     *http.Server
	// Requests records each request's X-Forwarded-Uri header (set by the
	// API server's pod proxy), or the path for direct requests.
	Requests []string
}

// Scrapes returns how many /metrics requests were answered.
func (s *Server) Scrapes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scrapes
}

// Serve serves on l until Close.
func (s *Server) Serve(l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ready\n")) })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := s.scrapes
		s.scrapes++
		uri := r.Header.Get("X-Forwarded-Uri")
		if uri == "" {
			uri = r.URL.Path
		}
		s.Requests = append(s.Requests, uri)
		before, deny := s.Before, s.Deny
		s.mu.Unlock()
		if deny {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("unauthorized request on route\n"))
			return
		}
		if before != nil {
			before(n, s.Proxy)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(s.Proxy.Exposition()))
	})
	s.mu.Lock()
	s.srv = &http.Server{Handler: mux}
	srv := s.srv
	s.mu.Unlock()
	_ = srv.Serve(l)
}

// Close stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}
