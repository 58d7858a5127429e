// Package peer holds what every benchmark server shares: the command line
// (--listen, --app), the open-files limit, the "listening on" line the
// harness waits for, and stopping on SIGINT/SIGTERM.
package peer

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
)

// HeaderSize is the size of the packet header: size u16 LE (the whole
// packet, header included) then id u16 LE.
const HeaderSize = 4

// MaxSessions is the connection limit the peers are configured with where
// the library has one; it is above the harness's largest scenario.
const MaxSessions = 19000

// Flags are the command-line options every peer takes.
type Flags struct {
	Listen     string
	App        string // "echo", "broadcast" or one of the extra apps the peer passed to Parse
	CPUProfile string // --cpuprofile: where to write a CPU profile of the run
}

// Parse registers and parses the common flags; extra flags a peer declares
// on flag.CommandLine before calling Parse are parsed too. Every peer serves
// echo and broadcast; extraApps are the apps only this peer serves (the
// servercore peer's typed echo, which needs the library's generated code).
func Parse(extraApps ...string) Flags {
	return ParseOnly(append([]string{"echo", "broadcast"}, extraApps...)...)
}

// ParseOnly is Parse for a peer that serves only apps (the MMO peers, which
// serve the game alone); the first is the default --app.
func ParseOnly(apps ...string) Flags {
	var f Flags
	flag.StringVar(&f.Listen, "listen", "127.0.0.1:0", "address to listen on (host:port; port 0 picks one)")
	flag.StringVar(&f.App, "app", apps[0], "application: "+strings.Join(apps, ", "))
	flag.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (for diagnosis)")
	flag.Parse()
	if !slices.Contains(apps, f.App) {
		fmt.Fprintf(os.Stderr, "unknown --app %q (want %s)\n", f.App, strings.Join(apps, ", "))
		os.Exit(2)
	}
	RaiseFileLimit()
	if f.CPUProfile != "" {
		out, err := os.Create(f.CPUProfile)
		if err != nil {
			Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			Fatal(err)
		}
		profileOut = out
	}
	return f
}

var profileOut *os.File

// StopProfile ends the CPU profile, if one is being written. Fatal calls it
// too.
func StopProfile() {
	if profileOut != nil {
		pprof.StopCPUProfile()
		profileOut.Close()
		profileOut = nil
	}
}

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit.
func RaiseFileLimit() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// Ready prints the line the harness waits for. extra, if not empty, is
// appended in parentheses.
func Ready(addr, extra string) {
	if extra != "" {
		fmt.Printf("listening on %s (%s)\n", addr, extra)
	} else {
		fmt.Printf("listening on %s\n", addr)
	}
	_ = os.Stdout.Sync()
}

// WaitSignal blocks until SIGINT or SIGTERM.
func WaitSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
	signal.Stop(ch)
}

// Fatal prints err and exits 1.
func Fatal(err error) {
	StopProfile()
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// PacketSize returns the size field of the header at the front of b, which
// must hold at least HeaderSize bytes.
func PacketSize(b []byte) int { return int(binary.LittleEndian.Uint16(b)) }
