package servercore

import (
	"flag"
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps the services' default logging (slog.Default) out of the
// test output unless -v asks for it: many tests make protocol errors and
// refusals on purpose.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}
