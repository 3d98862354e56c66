package feed

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics are the feed's Prometheus metrics, written in the text
// exposition format by handleMetrics. They are few enough that a small
// counter and histogram type beat a client library.
type metrics struct {
	start time.Time

	mu       sync.Mutex
	requests map[requestLabels]*histogram
	pushes   map[int]*histogram // by status

	downloads atomic.Int64
}

type requestLabels struct {
	route, method string
	status        int
}

// buckets are the upper bounds, in seconds, of the latency histograms.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func (h *histogram) observe(d time.Duration) {
	sec := d.Seconds()
	i, _ := slices.BinarySearch(buckets, sec)
	if h.counts == nil {
		h.counts = make([]uint64, len(buckets)+1)
	}
	h.counts[i]++
	h.count++
	h.sum += sec
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), requests: map[requestLabels]*histogram{}, pushes: map[int]*histogram{}}
}

func (m *metrics) request(route, method string, status int, d time.Duration) {
	k := requestLabels{route, method, status}
	m.mu.Lock()
	h := m.requests[k]
	if h == nil {
		h = &histogram{}
		m.requests[k] = h
	}
	h.observe(d)
	m.mu.Unlock()
}

func (m *metrics) push(status int, d time.Duration) {
	m.mu.Lock()
	h := m.pushes[status]
	if h == nil {
		h = &histogram{}
		m.pushes[status] = h
	}
	h.observe(d)
	m.mu.Unlock()
}

// handleMetrics is GET /metrics.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	m := s.metrics
	var b strings.Builder
	m.mu.Lock()
	b.WriteString("# HELP signet_http_request_duration_seconds HTTP requests by route, method and status.\n")
	b.WriteString("# TYPE signet_http_request_duration_seconds histogram\n")
	keys := make([]requestLabels, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestLabels) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	for _, k := range keys {
		writeHistogram(&b, "signet_http_request_duration_seconds",
			fmt.Sprintf(`route=%q,method=%q,status="%d"`, k.route, k.method, k.status), m.requests[k])
	}
	b.WriteString("# HELP signet_push_duration_seconds Package pushes by status.\n")
	b.WriteString("# TYPE signet_push_duration_seconds histogram\n")
	statuses := make([]int, 0, len(m.pushes))
	for st := range m.pushes {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses)
	for _, st := range statuses {
		writeHistogram(&b, "signet_push_duration_seconds", fmt.Sprintf(`status="%d"`, st), m.pushes[st])
	}
	m.mu.Unlock()
	fmt.Fprintf(&b, "# HELP signet_package_downloads_total Package downloads served.\n# TYPE signet_package_downloads_total counter\nsignet_package_downloads_total %d\n", m.downloads.Load())
	fmt.Fprintf(&b, "# HELP signet_start_time_seconds When the process started.\n# TYPE signet_start_time_seconds gauge\nsignet_start_time_seconds %d\n", m.start.Unix())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}

func writeHistogram(b *strings.Builder, name, labels string, h *histogram) {
	var cum uint64
	for i, le := range buckets {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{%s,le=%q} %d\n", name, labels, strconv.FormatFloat(le, 'g', -1, 64), cum)
	}
	fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, h.count)
	fmt.Fprintf(b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, h.sum, name, labels, h.count)
}
