package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"servercore/internal/bot"
)

// report is the outcome of a stress run. Its JSON form is what --json
// prints: packets, packets_per_sec, bytes_per_sec, p50_us, p99_us, p999_us,
// errors and mismatches, and the details around them.
type report struct {
	Mode        string  `json:"mode"`
	Target      string  `json:"target"`
	Backend     string  `json:"backend"`
	Clients     int     `json:"clients"`
	Connected   int     `json:"connected"`
	Size        int     `json:"size"`
	Inflight    int     `json:"inflight"`
	Rate        float64 `json:"rate_per_client,omitempty"` // broadcast only
	Rooms       int     `json:"rooms,omitempty"`           // mmo only
	MoveRate    float64 `json:"move_rate,omitempty"`       // mmo only
	ChatRate    float64 `json:"chat_rate,omitempty"`       // mmo only
	Churn       bool    `json:"churn,omitempty"`           // mmo only
	DurationSec float64 `json:"duration_sec"`              // measured, sending and draining
	Interrupted bool    `json:"interrupted,omitempty"`     // cut short by a signal

	// Sent counts the packets the clients sent; in broadcast mode each is
	// due to every connected client.
	Sent          uint64  `json:"sent"`
	Packets       uint64  `json:"packets"` // received and verified
	PacketsPerSec float64 `json:"packets_per_sec"`
	BytesPerSec   float64 `json:"bytes_per_sec"` // of verified packets received
	P50us         float64 `json:"p50_us"`
	P99us         float64 `json:"p99_us"`
	P999us        float64 `json:"p999_us"`
	MaxUs         float64 `json:"max_us"`
	// MovesPerSec is Sent a second, in mmo mode: the bots' moves; Packets
	// are then the moves seen by the other players.
	MovesPerSec float64 `json:"moves_per_sec,omitempty"`

	// Errors is ConnectErrors + Disconnects + Lost.
	Errors        uint64 `json:"errors"`
	ConnectErrors uint64 `json:"connect_errors"` // failed to connect or to join the room
	Disconnects   uint64 `json:"disconnects"`    // closed by the server or by an error
	Lost          uint64 `json:"lost"`           // sent and never received
	Mismatches    uint64 `json:"mismatches"`     // received wrong, out of order or unexpected
	FirstError    string `json:"first_error,omitempty"`
	FirstMismatch string `json:"first_mismatch,omitempty"`
}

func newReport(cfg stressConfig, backend string) *report {
	r := &report{
		Mode:     cfg.mode,
		Target:   cfg.Target,
		Backend:  backend,
		Clients:  cfg.Clients,
		Size:     cfg.Size,
		Inflight: cfg.Inflight,
	}
	switch cfg.mode {
	case "broadcast":
		r.Rate = cfg.Rate
	case "mmo":
		r.Rooms, r.MoveRate, r.ChatRate, r.Churn = cfg.mmo.Rooms, cfg.mmo.MoveRate, cfg.mmo.ChatRate, cfg.mmo.Churn
	}
	return r
}

// fill completes the report from the bots' result.
func (r *report) fill(res *bot.Result) {
	t := &res.Tally
	r.Connected = t.Connected
	r.Interrupted = res.Interrupted
	r.DurationSec = round(res.Elapsed.Seconds(), 3)
	r.Sent = t.Sent
	r.Packets = t.Good
	if sec := res.Elapsed.Seconds(); sec > 0 {
		r.PacketsPerSec = round(float64(t.Good)/sec, 1)
		r.BytesPerSec = round(float64(t.Good)*float64(r.Size)/sec, 1)
		if r.Mode == "mmo" {
			r.MovesPerSec = round(float64(t.Sent)/sec, 1)
			r.BytesPerSec = 0
		}
	}
	r.P50us = micros(t.Latency.Quantile(0.50))
	r.P99us = micros(t.Latency.Quantile(0.99))
	r.P999us = micros(t.Latency.Quantile(0.999))
	r.MaxUs = micros(t.Latency.Max())
	r.ConnectErrors = uint64(r.Clients-t.Connected) + uint64(res.Failed)
	r.Disconnects = t.Disconnects
	r.Lost = t.Lost
	r.Errors = r.ConnectErrors + r.Disconnects + r.Lost
	r.Mismatches = t.Mismatches
	r.FirstError = t.FirstError
	r.FirstMismatch = t.FirstMismatch
}

// ok reports whether the run passed: packets arrived, and none was lost or
// wrong.
func (r *report) ok() bool { return r.Packets > 0 && r.Errors == 0 && r.Mismatches == 0 }

func (r *report) writeJSON(w io.Writer) error {
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *report) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Mode == "mmo" {
		fmt.Fprintf(tw, "stress mmo: %d bots -> %s (backend %s), %s, %.2f s\n",
			r.Clients, r.Target, r.Backend, r.pacing(), r.DurationSec)
		fmt.Fprintf(tw, "  moves\t%d sent, %.0f/s\n", r.Sent, r.MovesPerSec)
		fmt.Fprintf(tw, "  deliveries\t%d moves seen by the others, %.0f/s\n", r.Packets, r.PacketsPerSec)
		fmt.Fprintf(tw, "  latency\tmove to seen: p50 %.1f µs, p99 %.1f µs, max %.1f µs\n", r.P50us, r.P99us, r.MaxUs)
		fmt.Fprintf(tw, "  errors\t%d (connect %d, disconnects %d, moves lost %d)\n", r.Errors, r.ConnectErrors, r.Disconnects, r.Lost)
		fmt.Fprintf(tw, "  violations\t%d\n", r.Mismatches)
	} else {
		fmt.Fprintf(tw, "stress %s: %d clients -> %s (backend %s), %d-byte packets, %s, %.2f s\n",
			r.Mode, r.Clients, r.Target, r.Backend, r.Size, r.pacing(), r.DurationSec)
		fmt.Fprintf(tw, "  packets\t%d received and verified (%d sent)\n", r.Packets, r.Sent)
		fmt.Fprintf(tw, "  throughput\t%.0f packets/s, %.2f MB/s\n", r.PacketsPerSec, r.BytesPerSec/1e6)
		fmt.Fprintf(tw, "  latency\tp50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs\n", r.P50us, r.P99us, r.P999us, r.MaxUs)
		fmt.Fprintf(tw, "  errors\t%d (connect %d, disconnects %d, lost %d)\n", r.Errors, r.ConnectErrors, r.Disconnects, r.Lost)
		fmt.Fprintf(tw, "  mismatches\t%d\n", r.Mismatches)
	}
	if r.FirstError != "" {
		fmt.Fprintf(tw, "  first error\t%s\n", r.FirstError)
	}
	if r.FirstMismatch != "" {
		fmt.Fprintf(tw, "  first mismatch\t%s\n", r.FirstMismatch)
	}
	fmt.Fprintf(tw, "  result\t%s\n", r.verdict())
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// pacing describes how the clients sent.
func (r *report) pacing() string {
	switch r.Mode {
	case "broadcast":
		return fmt.Sprintf("%g packets/s per client, window %d", r.Rate, r.Inflight)
	case "mmo":
		churn := ""
		if r.Churn {
			churn = ", churning"
		}
		return fmt.Sprintf("%d rooms, %g moves/s and %g chats/s per bot%s", r.Rooms, r.MoveRate, r.ChatRate, churn)
	}
	return fmt.Sprintf("inflight %d", r.Inflight)
}

// verdict sums the run up in a few words.
func (r *report) verdict() string {
	var why []string
	if r.Packets == 0 {
		why = append(why, "no packet came back")
	}
	if r.Errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", r.Errors))
	}
	if r.Mismatches > 0 {
		what := "mismatches"
		if r.Mode == "mmo" {
			what = "violations"
		}
		why = append(why, fmt.Sprintf("%d %s", r.Mismatches, what))
	}
	if r.Interrupted {
		why = append(why, "interrupted")
	}
	switch {
	case r.ok() && !r.Interrupted && r.Mode == "mmo":
		return "OK: no violation"
	case r.ok() && !r.Interrupted:
		return "OK: nothing lost or corrupted"
	case r.ok():
		return "OK so far: nothing lost or corrupted (interrupted)"
	}
	return "FAILED: " + strings.Join(why, ", ")
}

func micros(ns int64) float64 { return round(float64(ns)/1e3, 1) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
