package servercore

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestLeakCheckDetects makes sure the leak checks can fail: a goroutine
// and a descriptor left behind are both reported.
func TestLeakCheckDetects(t *testing.T) {
	defer func(d time.Duration) { leakWait = d }(leakWait)
	leakWait = 100 * time.Millisecond

	rec := &recordTB{TB: t}
	check := leakCheck(rec)
	block := make(chan struct{})
	go func() { <-block }()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	check()
	close(block)
	f.Close()

	all := strings.Join(rec.errors, "\n")
	if !strings.Contains(all, "goroutines leaked") || !strings.Contains(all, "TestLeakCheckDetects") {
		t.Errorf("a leaked goroutine was not reported with its stack; got:\n%s", all)
	}
	if fdCount() >= 0 && !strings.Contains(all, "descriptors leaked") {
		t.Errorf("a leaked descriptor was not reported; got:\n%s", all)
	}

	// And nothing is reported when nothing leaks.
	leakWait = 5 * time.Second
	rec = &recordTB{TB: t}
	check = leakCheck(rec)
	done := make(chan struct{})
	go func() { time.Sleep(50 * time.Millisecond); close(done) }()
	<-done
	check()
	if len(rec.errors) > 0 {
		t.Errorf("false leak reports: %v", rec.errors)
	}
}
