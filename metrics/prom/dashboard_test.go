package prom

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"servercore"
	"servercore/examples/echo"
	"servercore/job"
)

// TestDashboard: every servercore metric the Grafana dashboard queries is
// one the collector exports, so that a renamed metric cannot leave a panel
// empty, and every one exported but the backend's name has a panel.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../grafana/servercore.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: echo.NewSession, Backend: "std"})
	if err != nil {
		t.Fatal(err)
	}
	pool := job.NewPool(job.Options{Workers: 1})
	defer pool.Close(t.Context())
	exported := scrape(t, NewCollector("game", svc, pool))
	name := regexp.MustCompile(`servercore_[a-z_]+`)
	queried := map[string]bool{}
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, m := range name.FindAllString(target.Expr, -1) {
				if strings.HasPrefix(m, "servercore_mmo_") {
					continue // the game's, exported by the command and checked there
				}
				m = family(exported, m)
				queried[m] = true
				if _, ok := exported[m]; !ok {
					t.Errorf("panel %q queries %s, which the collector does not export", p.Title, m)
				}
			}
		}
	}
	for m := range exported {
		if !queried[m] && m != "servercore_backend_info" {
			t.Errorf("the dashboard has no panel for %s", m)
		}
	}
}

// family is the metric family a queried series name belongs to: a
// histogram's _bucket, _sum and _count series are of the histogram.
func family(exported map[string]*dto.MetricFamily, series string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := strings.CutSuffix(series, suffix); ok && exported[f].GetType() == dto.MetricType_HISTOGRAM {
			return f
		}
	}
	return series
}
