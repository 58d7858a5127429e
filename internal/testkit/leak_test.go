package testkit

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordTB is a testing.TB that records failures instead of failing, to
// test the kit's own checks. Fatalf ends the calling goroutine, as
// testing.T's does; run such code through failures.
type recordTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordTB) Helper() {}
func (r *recordTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}
func (r *recordTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recordTB) Logf(string, ...any) {}
func (r *recordTB) Log(...any)          {}

// failures runs f on its own goroutine with a recordTB over t and returns
// what f reported.
func failures(t *testing.T, f func(tb testing.TB)) []string {
	rec := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.errors
}

// TestLeakCheckDetects makes sure the leak checks can fail: a goroutine
// and a descriptor left behind are both reported.
func TestLeakCheckDetects(t *testing.T) {
	defer func(d time.Duration) { leakWait = d }(leakWait)
	leakWait = 100 * time.Millisecond

	rec := &recordTB{TB: t}
	check := LeakCheck(rec)
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
	if FdCount() >= 0 && !strings.Contains(all, "descriptors leaked") {
		t.Errorf("a leaked descriptor was not reported; got:\n%s", all)
	}

	// And nothing is reported when nothing leaks.
	leakWait = 5 * time.Second
	rec = &recordTB{TB: t}
	check = LeakCheck(rec)
	done := make(chan struct{})
	go func() { time.Sleep(50 * time.Millisecond); close(done) }()
	<-done
	check()
	if len(rec.errors) > 0 {
		t.Errorf("false leak reports: %v", rec.errors)
	}
}

// TestSettleFdCount: a descriptor closed while the count is polled lets it
// settle; one left open runs the poll out and shows in the count.
func TestSettleFdCount(t *testing.T) {
	if FdCount() < 0 {
		t.Skip("descriptors are not counted on this system")
	}
	defer func(d time.Duration) { leakWait = d }(leakWait)
	leakWait = 2 * time.Second

	for _, tc := range []struct {
		name   string
		closer func(f *os.File)
		settle bool
	}{
		{"closed later", func(f *os.File) { time.AfterFunc(50*time.Millisecond, func() { f.Close() }) }, true},
		{"left open", func(*os.File) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.settle {
				leakWait = 100 * time.Millisecond
			}
			before := FdCount()
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tc.closer(f)
			if now := SettleFdCount(before); (now <= before) != tc.settle {
				t.Errorf("SettleFdCount(%d) = %d with the descriptor %s", before, now, tc.name)
			}
		})
	}
}
