package prom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"servercore"
	"servercore/examples/echo"
	"servercore/internal/testkit"
	"servercore/job"
)

// TestCollectorScripted scrapes a service after a workload whose counts
// are known exactly: 10 sessions accepted, 3 refused at MaxSessions, 2 cut
// by ErrSendQueueFull, 1 by ErrProtocol; and a pool of two queues that
// ran 5 jobs, one of which panicked, and 32, two of them timed.
func TestCollectorScripted(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		t.Cleanup(testkit.LeakCheck(t))
		svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
			NewPacketSession: echo.NewSession,
			Backend:          backend,
			MaxSessions:      10,
			SendQueueLimit:   1000,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
			defer cancel()
			if err := svc.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
		pool := job.NewPool(job.Options{Workers: 1, OnPanic: func(string, any, []byte) {}})
		t.Cleanup(func() { pool.Close(context.Background()) })

		clients := make([]*testkit.Client, 10)
		for i := range clients {
			clients[i] = testkit.Dial(t, svc.Addr())
			clients[i].Echo(1, nil)
		}
		for range 3 {
			testkit.Dial(t, svc.Addr())
		}
		testkit.WaitFor(t, testkit.WaitLong, "3 refused", func() bool { return svc.Stats().Refused == 3 })
		for _, c := range clients[:2] { // an echo over the send-queue limit
			c.Send(2, make([]byte, 2000))
		}
		clients[2].MustWrite([]byte{1, 0, 0, 0}) // a header too short to be a packet
		testkit.WaitFor(t, testkit.WaitLong, "3 cut", func() bool { return svc.Stats().Sessions == 7 })

		q := pool.NewQueue("room")
		for i := range 5 {
			q.Post(func() {
				if i == 4 {
					panic("a bad job")
				}
			})
		}
		q.Close()
		testkit.Recv(t, q.Done(), testkit.WaitLong, "the queue's jobs")
		timed := pool.NewQueue("timed") // one post in 16 of a queue is timed
		for range 32 {
			timed.Post(func() {})
		}
		timed.Close()
		testkit.Recv(t, timed.Done(), testkit.WaitLong, "the timed queue's jobs")

		got := scrape(t, NewCollector("game", svc, pool))
		st := svc.Stats()
		for _, w := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"servercore_sessions", nil, 7},
			{"servercore_accepted_total", nil, 10},
			{"servercore_refused_total", nil, 3},
			{"servercore_accept_errors_total", nil, 0},
			{"servercore_received_packets_total", nil, 12},
			{"servercore_sent_packets_total", nil, 10},
			{"servercore_received_bytes_total", nil, 10*4 + 2*2004 + 4},
			{"servercore_sent_bytes_total", nil, 10 * 4},
			{"servercore_disconnects_total", map[string]string{"cause": "send_queue_full"}, 2},
			{"servercore_disconnects_total", map[string]string{"cause": "protocol"}, 1},
			{"servercore_disconnects_total", map[string]string{"cause": "peer_closed"}, 0},
			{"servercore_disconnects_total", map[string]string{"cause": "other"}, 0},
			{"servercore_handler_panics_total", nil, 0},
			{"servercore_send_queue_bytes", nil, 0},
			{"servercore_send_queue_max_bytes", nil, 0},
			{"servercore_recv_buffer_bytes", nil, float64(st.RecvBuffered)},
			{"servercore_backend_info", map[string]string{"backend": svc.Backend()}, 1},
			{"servercore_jobs_run_total", nil, 5 + 32},
			{"servercore_job_queues_created_total", nil, 2},
			{"servercore_job_panics_total", nil, 1},
			{"servercore_job_mailbox_jobs", nil, 0},
			{"servercore_job_late_ticks_total", nil, 0},
		} {
			v, ok := value(got, w.name, w.labels)
			if !ok {
				t.Errorf("%s%v: missing", w.name, w.labels)
			} else if v != w.want {
				t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.want)
			}
		}
		if n := len(got["servercore_disconnects_total"].GetMetric()); n != 11 {
			t.Errorf("%d disconnect causes exported, want 11, one per cause and other", n)
		}
		lat := got["servercore_job_start_latency_seconds"]
		if lat.GetType() != dto.MetricType_HISTOGRAM || len(lat.GetMetric()) != 1 {
			t.Fatalf("servercore_job_start_latency_seconds: %v, want one histogram", lat)
		}
		h := lat.GetMetric()[0].GetHistogram()
		// One post in 16 is timed, one per queue at a time: the 16th and,
		// if the 16th has started by then, the 32nd.
		if n := h.GetSampleCount(); n < 1 || n > 2 || h.GetSampleSum() <= 0 || len(h.GetBucket()) != 19+1 {
			t.Errorf("job latency histogram: %d samples, sum %v, %d buckets; want 1 or 2, above 0, 19 and +Inf", h.GetSampleCount(), h.GetSampleSum(), len(h.GetBucket()))
		}
		prev := uint64(0)
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() < prev || b.GetCumulativeCount() > h.GetSampleCount() {
				t.Errorf("bucket le=%v holds %d after %d, of %d", b.GetUpperBound(), b.GetCumulativeCount(), prev, h.GetSampleCount())
			}
			prev = b.GetCumulativeCount()
		}
		if max, _ := value(got, "servercore_job_start_latency_max_seconds", nil); max <= 0 || max > h.GetSampleSum() {
			t.Errorf("the longest start latency %vs, want above 0 and at most the sum %vs", max, h.GetSampleSum())
		}
		for _, c := range clients {
			c.Close()
		}
	})
}

// TestCollectorLabels: every metric carries the service's name, so that
// two services register side by side.
func TestCollectorLabels(t *testing.T) {
	t.Cleanup(testkit.LeakCheck(t))
	var cs []prometheus.Collector
	for _, name := range []string{"lobby", "world"} {
		svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: echo.NewSession, Backend: "std"})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, NewCollector(name, svc, nil))
	}
	got := scrape(t, cs...)
	for name, mf := range got {
		if len(mf.GetMetric()) == 0 {
			t.Errorf("%s: no metric", name)
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "service" {
					seen[l.GetValue()] = true
				}
			}
		}
		if !seen["lobby"] || !seen["world"] {
			t.Errorf("%s: services %v, want lobby and world", name, seen)
		}
		if strings.HasPrefix(name, "servercore_job") {
			t.Errorf("%s exported without a pool", name)
		}
	}
	if _, ok := got["servercore_sessions"]; !ok {
		t.Error("servercore_sessions missing")
	}
}

// scrape serves the collectors as a Prometheus endpoint does, reads the
// text format once and parses it.
func scrape(t *testing.T, cs ...prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(cs...)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	return mfs
}

// value is the value of the counter or gauge name whose labels include
// labels.
func value(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	for _, m := range mfs[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}
