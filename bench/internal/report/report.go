// Package report turns the benchmark's runs into Markdown tables (medians
// with min–max over rounds, ratios against the baseline server in columns of
// their own) and one hand-written SVG bar chart per scenario.
package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Metric describes one measured figure of a scenario.
type Metric struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`            // "pkt/s", "µs", "ms", "B", "MiB"
	Lower  bool   `json:"lower_is_better"` // direction, for the chart's caption
	Ratio  bool   `json:"ratio"`           // gets a ratio-vs-baseline column
	Chart  bool   `json:"chart"`           // gets a panel in the scenario's chart
	Digits int    `json:"digits"`          // significant digits (default 3)
}

// Scenario is one line of the benchmark plan.
type Scenario struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Desc    string   `json:"desc"`
	Metrics []Metric `json:"metrics"`
	// Peers, when set, are the only peers that run the scenario (an app
	// that only some peers serve); its table and chart show only them.
	Peers []string `json:"peers,omitempty"`
	// Twin, when set, is the id of the scenario this one is weighed
	// against peer by peer: the same load in another app, measured in the
	// same run. Each ratio metric then gets a column of its own with each
	// peer's median over that peer's median in Twin.
	Twin string `json:"twin,omitempty"`
	// TwinName is what the report calls the twin in short, as "raw echo".
	TwinName string `json:"twin_name,omitempty"`
}

// twinLabel names sc's twin in a header: its short name and its id.
func (sc Scenario) twinLabel() string {
	if sc.TwinName == "" {
		return sc.Twin
	}
	return sc.TwinName + " (" + sc.Twin + ")"
}

// peersOf are the peers sc is reported for.
func (r *Report) peersOf(sc Scenario) []string {
	if len(sc.Peers) > 0 {
		return sc.Peers
	}
	return r.Peers
}

// twinCells are the cells of sc's twin, nil if it has none in the report.
func (r *Report) twinCells(sc Scenario) map[string]*cell {
	if sc.Twin == "" {
		return nil
	}
	for _, t := range r.Scenarios {
		if t.ID == sc.Twin {
			return r.cells(t)
		}
	}
	return nil
}

// twinMedian is peer p's median of metric key in the twin's cells, 0 if
// there is none.
func twinMedian(twin map[string]*cell, p, key string) float64 {
	if c := twin[p]; c != nil && c.ok > 0 {
		return c.stats[key].Median
	}
	return 0
}

// Run is one measurement of one peer in one round of one scenario.
type Run struct {
	Scenario string             `json:"scenario"`
	Peer     string             `json:"peer"`
	Round    int                `json:"round"`
	Values   map[string]float64 `json:"values,omitempty"`
	Failed   string             `json:"failed,omitempty"` // why this run is not timed
}

// Machine is what the report says about where it ran.
type Machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	MemTotal  string `json:"mem_total"`
}

// Report is everything one benchmark invocation produced.
type Report struct {
	Command   string            `json:"command"`
	Started   time.Time         `json:"started"`
	Elapsed   time.Duration     `json:"elapsed"`
	Rounds    int               `json:"rounds"`
	Machine   Machine           `json:"machine"`
	Library   string            `json:"library"` // the servercore commit measured
	Peers     []string          `json:"peers"`
	Baseline  string            `json:"baseline"`
	Notes     []string          `json:"notes,omitempty"`
	Preflight map[string]string `json:"preflight,omitempty"` // peer -> why it failed the correctness check
	Scenarios []Scenario        `json:"scenarios"`
	Runs      []Run             `json:"runs"`
}

// Stat is a metric's median and range over the rounds that succeeded.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the Stat of values; N is 0 for none.
func Summarize(values []float64) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	v := slices.Clone(values)
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Stat{Median: m, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// cell is one peer's figures in one scenario.
type cell struct {
	stats    map[string]Stat
	ok, runs int
	failures []string
}

func (r *Report) cells(sc Scenario) map[string]*cell {
	out := make(map[string]*cell)
	vals := make(map[string]map[string][]float64)
	for _, p := range r.Peers {
		out[p] = &cell{stats: make(map[string]Stat)}
		vals[p] = make(map[string][]float64)
	}
	for _, run := range r.Runs {
		c, ok := out[run.Peer]
		if run.Scenario != sc.ID || !ok {
			continue
		}
		c.runs++
		if run.Failed != "" {
			c.failures = append(c.failures, run.Failed)
			continue
		}
		c.ok++
		for k, v := range run.Values {
			vals[run.Peer][k] = append(vals[run.Peer][k], v)
		}
	}
	for p, m := range vals {
		for k, v := range m {
			out[p].stats[k] = Summarize(v)
		}
	}
	return out
}

// FormatValue prints v in the metric's unit with its significant digits,
// scaling rates and sizes to k/M and KiB/MiB.
func FormatValue(v float64, m Metric) string {
	d := m.Digits
	if d == 0 {
		d = 3
	}
	switch m.Unit {
	case "pkt/s":
		switch {
		case math.Abs(v) >= 1e6:
			return sig(v/1e6, d) + "M"
		case math.Abs(v) >= 1e3:
			return sig(v/1e3, d) + "k"
		}
		return sig(v, d)
	case "B":
		switch {
		case math.Abs(v) >= 1<<20:
			return sig(v/(1<<20), d) + " MiB"
		case math.Abs(v) >= 1<<10:
			return sig(v/(1<<10), d) + " KiB"
		}
		return sig(v, d) + " B"
	}
	return sig(v, d)
}

// sig formats v with d significant digits, without an exponent.
func sig(v float64, d int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	mag := int(math.Floor(math.Log10(math.Abs(v))))
	dec := max(d-1-mag, 0)
	return fmt.Sprintf("%.*f", dec, v)
}

// unitSuffix is what a column header says after the metric's label.
func unitSuffix(m Metric) string {
	switch m.Unit {
	case "pkt/s", "B", "":
		return ""
	}
	return " (" + m.Unit + ")"
}

// Ratio formats a/b as "×1.23"; "–" when either is missing.
func Ratio(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return "×" + sig(a/b, 3)
}

// Table renders one scenario's Markdown table.
func (r *Report) Table(sc Scenario) string {
	cells := r.cells(sc)
	twin := r.twinCells(sc)
	var b strings.Builder
	head := []string{"server"}
	for _, m := range sc.Metrics {
		head = append(head, m.Label+unitSuffix(m))
	}
	for _, m := range sc.Metrics {
		if m.Ratio && sc.Twin != "" {
			head = append(head, m.Label+" vs the same server's "+sc.twinLabel())
		}
	}
	for _, m := range sc.Metrics {
		if m.Ratio {
			head = append(head, m.Label+" vs "+r.Baseline)
		}
	}
	head = append(head, "rounds ok")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(head)) + "\n")
	base := cells[r.Baseline]
	for _, p := range r.peersOf(sc) {
		c := cells[p]
		row := []string{p}
		if c.ok == 0 {
			why := "not run"
			if len(c.failures) > 0 {
				why = "**failed**: " + oneLine(c.failures[0])
			} else if f, ok := r.Preflight[p]; ok {
				why = "**not timed**: " + oneLine(f)
			}
			row = append(row, why)
			for range len(head) - 2 {
				row = append(row, "")
			}
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			continue
		}
		for _, m := range sc.Metrics {
			s, ok := c.stats[m.Key]
			if !ok {
				row = append(row, "–")
				continue
			}
			cellText := FormatValue(s.Median, m)
			if s.N > 1 {
				cellText += " (" + FormatValue(s.Min, m) + "–" + FormatValue(s.Max, m) + ")"
			}
			row = append(row, cellText)
		}
		for _, m := range sc.Metrics {
			if m.Ratio && sc.Twin != "" {
				row = append(row, Ratio(c.stats[m.Key].Median, twinMedian(twin, p, m.Key)))
			}
		}
		for _, m := range sc.Metrics {
			if !m.Ratio {
				continue
			}
			var bv float64
			if base != nil {
				bv = base.stats[m.Key].Median
			}
			row = append(row, Ratio(c.stats[m.Key].Median, bv))
		}
		okText := fmt.Sprintf("%d/%d", c.ok, c.runs)
		if len(c.failures) > 0 {
			okText += " (" + oneLine(c.failures[0]) + ")"
		}
		row = append(row, okText)
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// Summary renders one table over all scenarios: each peer's median of the
// first ratio metric of each scenario (the server CPU per message), with its
// ratio to the baseline, or, in a scenario with a twin, to the same peer's
// figure in the twin.
func (r *Report) Summary() string {
	var b strings.Builder
	b.WriteString("| scenario | " + strings.Join(r.Peers, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(r.Peers)+1) + "\n")
	for _, sc := range r.Scenarios {
		var m *Metric
		for i := range sc.Metrics {
			if sc.Metrics[i].Ratio {
				m = &sc.Metrics[i]
				break
			}
		}
		if m == nil {
			continue
		}
		cells := r.cells(sc)
		twin := r.twinCells(sc)
		var bv float64
		if base := cells[r.Baseline]; base != nil && base.ok > 0 {
			bv = base.stats[m.Key].Median
		}
		label := fmt.Sprintf("%s — %s%s", sc.Title, m.Label, unitSuffix(*m))
		if sc.Twin != "" {
			label += "; in parentheses: vs the same server's " + sc.twinLabel()
		}
		row := []string{label}
		for _, p := range r.Peers {
			c := cells[p]
			if !slices.Contains(r.peersOf(sc), p) {
				row = append(row, "–")
				continue
			}
			if c.ok == 0 {
				row = append(row, "failed")
				continue
			}
			v := c.stats[m.Key].Median
			t := FormatValue(v, *m)
			switch {
			case sc.Twin != "":
				t += " (" + Ratio(v, twinMedian(twin, p, m.Key)) + ")"
			case p != r.Baseline:
				t += " (" + Ratio(v, bv) + ")"
			}
			row = append(row, t)
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// Markdown renders the whole report. chartDir is the path prefix of the SVG
// files as the Markdown file sees them ("" for the same folder).
func (r *Report) Markdown(chartDir string) string {
	var b strings.Builder
	b.WriteString("# servercore benchmarks\n\n")
	fmt.Fprintf(&b, "Command: `%s`  \n", r.Command)
	fmt.Fprintf(&b, "Started %s, took %s, %d round(s), servers interleaved within each round.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second), r.Rounds)
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- cores: %d (%s)\n- memory: %s\n- kernel: %s\n- Go: %s\n",
		r.Machine.Cores, r.Machine.CPU, r.Machine.MemTotal, r.Machine.Kernel, r.Machine.GoVersion)
	if r.Library != "" {
		fmt.Fprintf(&b, "- servercore: %s\n", r.Library)
	}
	b.WriteString("\n")
	b.WriteString("Absolute figures move between runs and machines (this one is small and shared); " +
		"the ratios between servers measured side by side, and the server CPU time per message, are what hold.\n\n")
	for _, n := range r.Notes {
		b.WriteString("- " + n + "\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	if len(r.Preflight) > 0 {
		b.WriteString("## Not timed: failed to start or failed the correctness check\n\n")
		for _, p := range r.Peers {
			if f, ok := r.Preflight[p]; ok {
				fmt.Fprintf(&b, "- **%s**: %s\n", p, oneLine(f))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("## Summary\n\n")
	b.WriteString("The headline figure of each scenario: server CPU time per message (per connection memory for the idle one), " +
		"median over rounds; in parentheses the ratio to " + r.Baseline + " (below 1: cheaper than " + r.Baseline + ").\n\n")
	b.WriteString(r.Summary())
	b.WriteString("\n")
	for _, sc := range r.Scenarios {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", sc.Title, sc.Desc)
		b.WriteString(r.Table(sc))
		fmt.Fprintf(&b, "\n![%s](%s%s.svg)\n\n", sc.Title, chartDir, sc.ID)
	}
	return b.String()
}
