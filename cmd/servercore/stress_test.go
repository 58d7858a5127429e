package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// stressJSON runs stress with --json and returns its exit code and report.
func stressJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, stdout, stderr := runCmd(t, append([]string{"stress", "--json"}, args...)...)
	var rep map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stress --json printed no JSON object (%v); exit %d\nstdout:\n%s\nstderr:\n%s", err, code, stdout, stderr)
	}
	if dec.More() {
		t.Fatalf("stress --json printed more than one JSON value:\n%s", stdout)
	}
	for _, key := range []string{"packets", "packets_per_sec", "bytes_per_sec", "p50_us", "p99_us", "p999_us", "errors", "mismatches"} {
		if _, ok := rep[key].(float64); !ok {
			t.Errorf("report lacks the number %q: %s", key, stdout)
		}
	}
	return code, rep
}

func num(rep map[string]any, key string) float64 {
	v, _ := rep[key].(float64)
	return v
}

func TestStressEcho(t *testing.T) {
	addr := startTestServer(t, "echo")
	code, rep := stressJSON(t, "--target", addr, "--clients", "8", "--inflight", "4", "--size", "100", "--duration", "1s")
	if code != exitOK || num(rep, "packets") == 0 || num(rep, "errors") != 0 || num(rep, "mismatches") != 0 {
		t.Fatalf("exit %d, report %v", code, rep)
	}
	if num(rep, "packets") != num(rep, "sent") || num(rep, "connected") != 8 {
		t.Errorf("every packet sent must come back: %v", rep)
	}
	if num(rep, "p50_us") <= 0 || num(rep, "p50_us") > num(rep, "p99_us") || num(rep, "p99_us") > num(rep, "p999_us") {
		t.Errorf("latency percentiles out of order: %v", rep)
	}
	if want := num(rep, "packets_per_sec") * 100; !near(num(rep, "bytes_per_sec"), want) {
		t.Errorf("bytes_per_sec %v, want packets_per_sec*size = %v", num(rep, "bytes_per_sec"), want)
	}
}

func near(a, b float64) bool { return a >= b*0.999-1 && a <= b*1.001+1 }

func TestStressBroadcast(t *testing.T) {
	addr := startTestServer(t, "broadcast")
	const clients = 5
	code, rep := stressJSON(t, "--target", addr, "--mode", "broadcast", "--clients", "5", "--rate", "40", "--inflight", "4", "--duration", "1s")
	if code != exitOK || num(rep, "packets") == 0 || num(rep, "errors") != 0 || num(rep, "mismatches") != 0 {
		t.Fatalf("exit %d, report %v", code, rep)
	}
	// Every client gets every client's packets, its own included.
	if num(rep, "packets") != clients*num(rep, "sent") {
		t.Errorf("packets %v, want clients*sent = %v", num(rep, "packets"), clients*num(rep, "sent"))
	}
}

func TestStressTextReport(t *testing.T) {
	addr := startTestServer(t, "echo")
	code, stdout, stderr := runCmd(t, "stress", "--target", addr, "--clients", "2", "--duration", "300ms")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"packets/s", "MB/s", "p99.9", "mismatches", "OK"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// A server that flips a byte now and then must make the run fail: the
// verifier can say no.
func TestStressDetectsCorruption(t *testing.T) {
	addr := startFaultyEcho(t, func(n int, pkt []byte) []byte {
		if n%50 == 49 {
			pkt[len(pkt)-1] ^= 0x20
		}
		return pkt
	})
	code, rep := stressJSON(t, "--target", addr, "--clients", "3", "--inflight", "2", "--size", "48", "--duration", "500ms")
	if code != exitFailed || num(rep, "mismatches") == 0 {
		t.Fatalf("exit %d, report %v; want exit 1 with mismatches", code, rep)
	}
	if !strings.Contains(rep["first_mismatch"].(string), "fill") {
		t.Errorf("first_mismatch %q should name the corrupted fill", rep["first_mismatch"])
	}
}

// A server that drops a packet now and then: the run counts the drops as
// lost, and one order mismatch each, not a cascade of mismatches.
func TestStressDetectsLoss(t *testing.T) {
	// Every tenth, so that a run slowed down by a loaded machine still
	// meets a drop on each connection.
	addr := startFaultyEcho(t, func(n int, pkt []byte) []byte {
		if n%10 == 9 {
			return nil
		}
		return pkt
	})
	code, rep := stressJSON(t, "--target", addr, "--clients", "2", "--inflight", "4", "--duration", "500ms")
	lost, bad := num(rep, "lost"), num(rep, "mismatches")
	if code != exitFailed || lost == 0 || num(rep, "errors") < lost {
		t.Fatalf("exit %d, report %v; want exit 1 with lost packets", code, rep)
	}
	if bad > lost+2 {
		t.Errorf("%v mismatches for %v lost packets: a drop should cost one mismatch", bad, lost)
	}
}

// An echo server answering a broadcast run (or the reverse) fails the run.
func TestStressWrongMode(t *testing.T) {
	addr := startTestServer(t, "echo")
	code, rep := stressJSON(t, "--target", addr, "--mode", "broadcast", "--clients", "3", "--rate", "50", "--duration", "300ms", "--drain", "200ms")
	if code != exitFailed || num(rep, "lost") == 0 {
		t.Fatalf("exit %d, report %v; want exit 1 with lost packets", code, rep)
	}
}

func TestStressConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, rep := stressJSON(t, "--target", addr, "--clients", "3", "--duration", "200ms")
	if code != exitFailed || num(rep, "connect_errors") != 3 || num(rep, "errors") != 3 || rep["first_error"] == nil {
		t.Fatalf("exit %d, report %v; want exit 1 with 3 connect errors", code, rep)
	}
}

// A signal (the context) cuts a run short: the clients stop, drain, and
// report what they verified so far.
func TestStressInterrupted(t *testing.T) {
	addr := startTestServer(t, "echo")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	began := time.Now()
	code := runStress(ctx, []string{"--target", addr, "--clients", "3", "--inflight", "2", "--duration", "1h", "--json"}, &stdout, &stderr)
	if took := time.Since(began); took > testTimeout {
		t.Fatalf("an interrupted run took %v", took)
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no report (%v); exit %d, stderr:\n%s", err, code, stderr.String())
	}
	if code != exitOK || rep["interrupted"] != true || num(rep, "packets") == 0 || num(rep, "errors") != 0 {
		t.Fatalf("exit %d, report %v; want exit 0, interrupted, no errors", code, rep)
	}
}
