package prom

import (
	"os"
	"testing"

	"servercore/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
