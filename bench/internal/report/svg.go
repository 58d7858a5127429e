package report

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Colours of the peers, in order; the baseline is first.
var palette = []string{"#e8590c", "#c2255c", "#1971c2", "#2f9e44", "#7048e8", "#0c8599", "#5c940d", "#868e96"}

const (
	panelH   = 310
	plotTop  = 56
	plotBot  = 250
	plotLeft = 58
	slotMin  = 64 // horizontal room per peer
	titleH   = 34
)

// panelWidth is the width of one panel for n peers.
func panelWidth(n int) int { return max(300, plotLeft+16+n*slotMin) }

// SVG renders the scenario's chart: one panel per charted metric, a bar per
// peer at its median with a whisker from min to max, the value above it.
func (r *Report) SVG(sc Scenario) string {
	var metrics []Metric
	for _, m := range sc.Metrics {
		if m.Chart {
			metrics = append(metrics, m)
		}
	}
	cells := r.cells(sc)
	panelW := panelWidth(len(r.peersOf(sc)))
	w := max(len(metrics), 1) * panelW
	h := panelH + titleH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="15" font-weight="bold" fill="#212529">%s</text>`+"\n", esc(sc.Title))
	for i, m := range metrics {
		r.panel(&b, i*panelW, titleH, panelW, sc, m, cells)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (r *Report) panel(b *strings.Builder, x0, y0, panelW int, sc Scenario, m Metric, cells map[string]*cell) {
	peers := r.peersOf(sc)
	twin := r.twinCells(sc)
	plotW := panelW - plotLeft - 16
	fmt.Fprintf(b, `<g transform="translate(%d,%d)">`+"\n", x0, y0)
	dir := "higher is better"
	if m.Lower {
		dir = "lower is better"
	}
	title := m.Label
	if m.Unit != "" {
		title += " (" + m.Unit + ")"
	}
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="13" font-weight="bold" fill="#343a40">%s</text>`+"\n", plotLeft-40, esc(title))
	fmt.Fprintf(b, `<text x="%d" y="34" font-size="11" fill="#868e96">%s; bar: median, line: min–max</text>`+"\n", plotLeft-40, dir)

	top := 0.0
	for _, p := range peers {
		if c := cells[p]; c != nil && c.ok > 0 {
			top = math.Max(top, c.stats[m.Key].Max)
		}
	}
	div, suffix := displayUnit(m.Unit, top)
	scaleD, steps := niceScale(top * 1.12 / div)
	if scaleD <= 0 {
		scaleD, steps = 1, 5
	}
	scale := scaleD * div
	yOf := func(v float64) float64 { return plotBot - (v/scale)*(plotBot-plotTop) }

	// Grid and axis labels, in round numbers of the display unit.
	for i := 0; i <= steps; i++ {
		v := scaleD * float64(i) / float64(steps)
		y := yOf(v * div)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e9ecef"/>`+"\n", plotLeft, y, plotLeft+plotW, y)
		label := "0"
		if i > 0 {
			label = strconv.FormatFloat(v, 'f', -1, 64) + suffix
		}
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="10" fill="#868e96" text-anchor="end">%s</text>`+"\n", plotLeft-4, y+3, esc(label))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#adb5bd"/>`+"\n", plotLeft, plotBot, plotLeft+plotW, plotBot)

	n := max(len(peers), 1)
	slot := float64(plotW) / float64(n)
	barW := math.Min(slot*0.6, 44)
	for i, p := range peers {
		cx := float64(plotLeft) + slot*(float64(i)+0.5)
		// A peer keeps its colour in every chart, shown with all or not.
		color := palette[max(slices.Index(r.Peers, p), 0)%len(palette)]
		// A long name breaks after its dash, onto two lines.
		line1, line2 := p, ""
		if i := strings.IndexByte(p, '-'); i > 0 && len(p) > 10 {
			line1, line2 = p[:i+1], p[i+1:]
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" fill="#495057" text-anchor="middle">%s</text>`+"\n", cx, plotBot+15, esc(line1))
		if line2 != "" {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" fill="#495057" text-anchor="middle">%s</text>`+"\n", cx, plotBot+28, esc(line2))
		}
		c := cells[p]
		if c == nil || c.ok == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" fill="#c92a2a" text-anchor="middle">failed</text>`+"\n", cx, plotBot-6)
			continue
		}
		s := c.stats[m.Key]
		y := yOf(s.Median)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.85"><title>%s: %s</title></rect>`+"\n",
			cx-barW/2, y, barW, plotBot-y, color, esc(p), esc(FormatValue(s.Median, m)))
		if s.N > 1 && s.Max > s.Min {
			y1, y2 := yOf(s.Min), yOf(s.Max)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#212529" stroke-width="1.2"/>`+"\n", cx, y1, cx, y2)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#212529" stroke-width="1.2"/>`+"\n", cx-5, y1, cx+5, y1)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#212529" stroke-width="1.2"/>`+"\n", cx-5, y2, cx+5, y2)
			y = math.Min(y, y2)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10" fill="#212529" text-anchor="middle">%s</text>`+"\n", cx, y-4, esc(FormatValue(s.Median, m)))
		if sc.Twin != "" && m.Ratio {
			if tv := twinMedian(twin, p, m.Key); tv > 0 {
				fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" fill="#868e96" text-anchor="middle">%s</text>`+"\n", cx, plotBot+42, esc(Ratio(s.Median, tv)+" vs "+cmp.Or(sc.TwinName, "twin")))
			}
		} else if p != r.Baseline && m.Ratio {
			if base := cells[r.Baseline]; base != nil && base.ok > 0 {
				fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" fill="#868e96" text-anchor="middle">%s</text>`+"\n", cx, plotBot+42, esc(Ratio(s.Median, base.stats[m.Key].Median)))
			}
		}
	}
	b.WriteString("</g>\n")
}

// niceScale rounds v up to 1, 2, 2.5 or 5 times a power of ten and says
// in how many steps to grid it so that every step is a round number.
func niceScale(v float64) (float64, int) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, c := range []struct {
		f     float64
		steps int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}, {10, 5}} {
		if c.f*p >= v*(1-1e-9) {
			return c.f * p, c.steps
		}
	}
	return 10 * p, 5
}

// displayUnit is the divisor and suffix the axis of a metric is labelled in,
// chosen by the largest value shown.
func displayUnit(unit string, top float64) (float64, string) {
	switch unit {
	case "pkt/s":
		switch {
		case top >= 1e6:
			return 1e6, "M"
		case top >= 1e3:
			return 1e3, "k"
		}
	case "B":
		switch {
		case top >= 1<<20:
			return 1 << 20, " MiB"
		case top >= 1<<10:
			return 1 << 10, " KiB"
		}
		return 1, " B"
	}
	return 1, ""
}

func esc(s string) string { return html.EscapeString(s) }
