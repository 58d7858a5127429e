package report

import (
	"encoding/xml"
	"strings"
	"testing"
)

func sample() *Report {
	m := []Metric{
		{Key: "cpu", Label: "server CPU/packet", Unit: "µs", Lower: true, Ratio: true, Chart: true},
		{Key: "pps", Label: "packets/s", Unit: "pkt/s", Ratio: true, Chart: true},
	}
	r := &Report{
		Peers:     []string{"servercore", "other", "broken"},
		Baseline:  "servercore",
		Scenarios: []Scenario{{ID: "echo-x", Title: "Echo <x> & y", Metrics: m}},
		Preflight: map[string]string{},
	}
	for round, v := range []float64{2, 4, 3} {
		r.Runs = append(r.Runs,
			Run{Scenario: "echo-x", Peer: "servercore", Round: round + 1, Values: map[string]float64{"cpu": v, "pps": 100000 * v}},
			Run{Scenario: "echo-x", Peer: "other", Round: round + 1, Values: map[string]float64{"cpu": v / 2, "pps": 1500000}},
			Run{Scenario: "echo-x", Peer: "broken", Round: round + 1, Failed: "3 wrong packets"},
		)
	}
	return r
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3})
	if s.Median != 3 || s.Min != 1 || s.Max != 5 || s.N != 3 {
		t.Fatalf("%+v", s)
	}
	if s := Summarize([]float64{1, 2, 3, 10}); s.Median != 2.5 {
		t.Fatalf("even median %+v", s)
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		v    float64
		unit string
		want string
	}{
		{1234567, "pkt/s", "1.23M"}, {45678, "pkt/s", "45.7k"}, {12, "pkt/s", "12.0"},
		{0.5, "µs", "0.500"}, {123.456, "ms", "123"}, {11074, "B", "10.8 KiB"}, {500, "B", "500 B"},
	}
	for _, c := range cases {
		if got := FormatValue(c.v, Metric{Unit: c.unit}); got != c.want {
			t.Errorf("FormatValue(%v, %s) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
	if Ratio(1, 2) != "×0.500" || Ratio(1, 0) != "–" {
		t.Error("Ratio")
	}
}

func TestTable(t *testing.T) {
	r := sample()
	tab := r.Table(r.Scenarios[0])
	lines := strings.Split(strings.TrimSpace(tab), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header, rule and 3 rows:\n%s", tab)
	}
	for _, want := range []string{
		"| servercore | 3.00 (2.00–4.00) | 300k (200k–400k) | ×1.00 | ×1.00 | 3/3 |",
		"| other | 1.50 (1.00–2.00) | 1.50M (1.50M–1.50M) | ×0.500 | ×5.00 | 3/3 |",
		"| broken | **failed**: 3 wrong packets |",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	for _, l := range lines {
		if strings.Count(l, "|") != strings.Count(lines[0], "|") {
			t.Errorf("ragged row %q", l)
		}
	}
	md := r.Markdown("charts/")
	if !strings.Contains(md, "(charts/echo-x.svg)") || !strings.Contains(md, "1.50 (×0.500)") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	r := sample()
	svg := r.SVG(r.Scenarios[0])
	d := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects != 1+2*2 { // background + 2 panels × 2 peers that ran
		t.Errorf("%d rects", rects)
	}
	if !strings.Contains(svg, "Echo &lt;x&gt; &amp; y") || !strings.Contains(svg, "failed") {
		t.Error("title not escaped or failed peer not shown")
	}
}

// A scenario with a twin and its own peers shows only them, with each
// one's ratio to its own figure in the twin.
func TestTwin(t *testing.T) {
	r := sample()
	r.Scenarios = append(r.Scenarios, Scenario{
		ID: "typed-x", Title: "Typed x", Metrics: r.Scenarios[0].Metrics,
		Peers: []string{"servercore", "other"}, Twin: "echo-x", TwinName: "raw echo",
	})
	for round := range 3 {
		r.Runs = append(r.Runs,
			Run{Scenario: "typed-x", Peer: "servercore", Round: round + 1, Values: map[string]float64{"cpu": 3.6, "pps": 100000}},
			Run{Scenario: "typed-x", Peer: "other", Round: round + 1, Values: map[string]float64{"cpu": 3, "pps": 1500000}},
		)
	}
	tab := r.Table(r.Scenarios[1])
	if strings.Contains(tab, "broken") {
		t.Errorf("a peer that does not run the scenario has a row:\n%s", tab)
	}
	// servercore: 3.6 over its echo median 3; other: 3 over 1.5.
	if !strings.Contains(tab, "server CPU/packet vs the same server's raw echo (echo-x)") ||
		!strings.Contains(tab, "| servercore | 3.60 (3.60–3.60) | 100k (100k–100k) | ×1.20 | ×0.333 |") ||
		!strings.Contains(tab, "| other | 3.00 (3.00–3.00) | 1.50M (1.50M–1.50M) | ×2.00 | ×1.00 |") {
		t.Errorf("table:\n%s", tab)
	}
	sum := r.Summary()
	if !strings.Contains(sum, "| 3.60 (×1.20) | 3.00 (×2.00) | – |") {
		t.Errorf("summary:\n%s", sum)
	}
	svg := r.SVG(r.Scenarios[1])
	if strings.Contains(svg, "broken") || !strings.Contains(svg, "×1.20 vs raw echo") {
		t.Errorf("chart:\n%s", svg)
	}
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("chart is not XML: %v", err)
	}
}
