// Command servercore runs a servercore game server, load-tests one, or
// demonstrates both together.
//
//	servercore serve  --listen ADDR --app mmo|echo|broadcast [--rooms N] [--room-capacity N] [--tick D] [flags]
//	servercore stress --target ADDR --mode mmo --clients N [--rooms R] [--move-rate HZ] [--chat-rate HZ] [--churn] [--duration D] [--json]
//	servercore stress --target ADDR --mode echo|broadcast --clients N --duration D --size BYTES [flags]
//	servercore demo   [--app mmo|echo] [--duration 10s] [--clients N] [--backend auto]
//
// Run "servercore COMMAND -h" for the flags of each command. Exit status: 0 on
// success, 1 when the run failed (a stress run lost or corrupted a packet, or
// its game bots found a violation), 2 for bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	keepGoing   = -1 // parseFlags: the flags are fine, run the command
	programName = "servercore"
)

const usageText = `usage: servercore COMMAND [flags]

commands:
  serve    run the MMO sample, an echo or a broadcast server until SIGINT/SIGTERM
  stress   load-test a server with verifying clients (the DummyClient)
  demo     the MMO sample and its bots on loopback for about ten seconds
           (--app echo: the echo and broadcast servers instead)

Run "servercore COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command line (without the program name) and returns the
// exit code. ctx ends a serve, and cuts a stress or demo run short.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s: no command given\n\n%s", programName, usageText)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "stress":
		return runStress(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", programName, cmd, usageText)
		return exitUsage
	}
}

// parseFlags parses a command's flags. On -h it prints the command's usage
// on stdout and returns exitOK; on a bad flag or a stray argument it prints
// the problem and the usage on stderr and returns exitUsage; otherwise it
// returns keepGoing.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard) // the errors are printed below, once
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout, fs, usage)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%s %s: %v\n\n", programName, fs.Name(), err)
		printUsage(stderr, fs, usage)
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s %s: unexpected argument %q\n\n", programName, fs.Name(), fs.Arg(0))
		printUsage(stderr, fs, usage)
		return exitUsage
	}
	return keepGoing
}

func printUsage(w io.Writer, fs *flag.FlagSet, usage string) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// usageError reports an invalid flag value and returns exitUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s %s: %s\nRun '%s %s -h' for usage.\n", programName, cmd, fmt.Sprintf(format, args...), programName, cmd)
	return exitUsage
}

// validBackend reports whether name is a backend the library knows; whether
// it runs on this system is the library's to say when the service is made.
func validBackend(name string) bool {
	switch name {
	case "auto", "uring", "iocp", "std":
		return true
	}
	return false
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
