package feed

import "net/http"

// uiRoutes registers the web UI's pages (ui_*.go).
func (s *Server) uiRoutes(handle func(pattern, route string, h http.HandlerFunc)) {}
