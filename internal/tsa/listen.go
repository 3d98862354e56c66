package tsa

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HTTP server limits for ListenAndServe. A timestamp exchange is one small
// request and one small reply; anything slower is a stuck or hostile peer.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	// shutdownGrace is how long in-flight requests may finish after ctx
	// is cancelled.
	shutdownGrace = 10 * time.Second
)

// ListenAndServe validates s and serves it on addr at every path until ctx
// is cancelled, then shuts down gracefully. It returns nil after a clean
// shutdown.
func ListenAndServe(ctx context.Context, addr string, s *Server) error {
	if err := s.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("tsa: %w", err)
	}
	return Serve(ctx, ln, s)
}

// Serve is ListenAndServe on an existing listener, which it closes.
func Serve(ctx context.Context, ln net.Listener, s *Server) error {
	if err := s.Validate(); err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	s.logger().Info("tsa listening", "addr", ln.Addr().String(), "policy", s.policy().String(),
		"certificate", s.Certificate.Subject.String(), "not_after", s.Certificate.NotAfter.UTC())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("tsa: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("tsa: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("tsa: %w", err)
	}
	s.logger().Info("tsa stopped")
	return nil
}
