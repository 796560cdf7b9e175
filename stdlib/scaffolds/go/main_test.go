package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbesAndMetrics(t *testing.T) {
	handler := newHandler(newMetrics())
	for _, path := range []string{"/healthz", "/ready", "/"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE http_requests_total counter\n",
		"http_requests_total{method=\"GET\",code=\"200\"} 1\n",
		"# TYPE http_request_duration_seconds histogram\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestHistogramIsCumulative(t *testing.T) {
	m := newMetrics()
	m.observe(http.MethodGet, http.StatusOK, 0.2)
	m.observe(http.MethodGet, http.StatusInternalServerError, 3)
	body := m.render()
	for _, want := range []string{
		"http_request_duration_seconds_bucket{le=\"0.25\"} 1\n",
		"http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n",
		"http_requests_total{method=\"GET\",code=\"500\"} 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("render lacks %q:\n%s", want, body)
		}
	}
}
