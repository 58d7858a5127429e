package testkit

import (
	"flag"
	"log/slog"
	"testing"
)

// Main runs a package's tests with slog.Default discarding its output
// unless -v asks for it: services log to it by default, and many tests make
// protocol errors and refusals on purpose. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
func Main(m *testing.M) int {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	return m.Run()
}
