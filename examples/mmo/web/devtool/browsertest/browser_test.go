// Package browsertest drives the MMO's browser client in a real, headless
// Chromium: two pages and a Go bot over TCP play in one room of a
// `servercore serve --app mmo --web` server. It lives in the devtool
// module so that chromedp is no dependency of servercore's.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitFor bounds each wait for the page to show something.
const waitFor = 30 * time.Second

// browsers are the names a Chromium goes by, in the order looked for.
var browsers = []string{"chromium", "chromium-browser", "chromium-headless-shell", "headless_shell", "google-chrome", "google-chrome-stable"}

// findBrowser returns the path of a Chromium, or skips the test: under
// CI=true, where .ci/run installs one, a missing browser fails it.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no Chromium in PATH (looked for %s); apt-get install chromium", strings.Join(browsers, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, closed when
// the test ends, and returns its context.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Every tab is a player: none is throttled for being in the background.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx)
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// state is the page's window.mmo, as the test reads it.
type state struct {
	Phase   string            `json:"phase"`
	Status  string            `json:"status"`
	Self    string            `json:"self"`
	Room    int               `json:"room"`
	Players map[string]player `json:"players"`
	Chat    []chatLine        `json:"chat"`
	Drawn   []dot             `json:"drawn"`
	Line    string            `json:"line"` // the status line, as shown
}

type player struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Running bool    `json:"running"`
}

type chatLine struct {
	From string `json:"from"`
	Name string `json:"name"`
	Msg  string `json:"msg"`
}

type dot struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	PX   float64 `json:"px"`
	PY   float64 `json:"py"`
}

// stateJS reads window.mmo as a state.
const stateJS = `JSON.stringify({phase: mmo.phase, status: mmo.status, self: mmo.self, room: mmo.room,
	players: mmo.players, chat: mmo.chat, drawn: mmo.drawn, line: document.getElementById("status").textContent})`

// page is one browser tab playing the game.
type page struct {
	t      *testing.T
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	errs   chan string // the page's uncaught exceptions and console errors
}

// openPage opens the client in a new tab of browser, joining as name in
// room; with no name, the page is opened bare, to be joined by hand.
func openPage(t *testing.T, browser context.Context, pageURL, name string, room int) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	p := &page{t: t, name: name, ctx: ctx, cancel: cancel, errs: make(chan string, 100)}
	if name == "" {
		p.name = "a bare page"
	}
	t.Cleanup(p.close)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				select {
				case p.errs <- m.String():
				default:
				}
			}
		}
	}()
	u := pageURL
	if name != "" {
		u = fmt.Sprintf("%s?name=%s&room=%d", pageURL, url.QueryEscape(name), room)
	}
	p.do(chromedp.Navigate(u))
	return p
}

// close closes the tab, once.
func (p *page) close() {
	if p.cancel == nil {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(ctx)
	p.cancel()
	p.cancel = nil
}

// checkErrors fails the test for anything the page threw or logged as an error.
func (p *page) checkErrors() {
	p.t.Helper()
	for {
		select {
		case e := <-p.errs:
			p.t.Errorf("%s: the page reported: %s", p.name, e)
		default:
			return
		}
	}
}

// do runs actions on the tab within waitFor.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// screenshot saves a PNG of the page to path, for a person to look at.
func (p *page) screenshot(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("%s: screenshot in %s", p.name, path)
}

// state reads the page's state now.
func (p *page) state() state {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](stateJS))
	if err != nil {
		p.t.Fatalf("%s: read window.mmo: %v", p.name, err)
	}
	var s state
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		p.t.Fatalf("%s: window.mmo %s: %v", p.name, raw, err)
	}
	return s
}

// waitUntil polls the page's state until cond holds, for up to waitFor,
// and fails the test with what, and the last state, if it never does.
func (p *page) waitUntil(what string, cond func(state) bool) state {
	p.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		s := p.state()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s: not within %v; the page shows %+v", p.name, what, waitFor, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// findName returns the player called name in s, if any.
func (s state) findName(name string) (player, bool) {
	for _, pl := range s.Players {
		if pl.Name == name {
			return pl, true
		}
	}
	return player{}, false
}

// drawnAt returns where the player id was last drawn, if it was.
func (s state) drawnAt(id string) (dot, bool) {
	for _, d := range s.Drawn {
		if d.ID == id {
			return d, true
		}
	}
	return dot{}, false
}

// heard reports whether s's chat has msg from name.
func (s state) heard(name, msg string) bool {
	for _, c := range s.Chat {
		if c.Name == name && c.Msg == msg {
			return true
		}
	}
	return false
}

// TestBrowserClient: two pages join one room; one moves with the keyboard
// and the other draws it where it went; chat goes both ways; a Go bot over
// TCP in the same room sees the browsers' players, moves and chats, and
// they see its; a page closed despawns its player everywhere; the room
// picker takes a player to another room.
func TestBrowserClient(t *testing.T) {
	browserPath := findBrowser(t)
	g := startGame(t)
	browser := newBrowser(t, browserPath)
	const room = 2

	alice := openPage(t, browser, g.pageURL, "alice", room)
	bob := openPage(t, browser, g.pageURL, "bob", room)
	inRoom := func(s state) bool { return s.Phase == "in" && s.Room == room && s.Self != "" }
	aliceID := alice.waitUntil("alice in the room", inRoom).Self
	bobID := bob.waitUntil("bob in the room", inRoom).Self

	// Each sees the other, named, on its canvas.
	s := alice.waitUntil("alice seeing bob drawn", func(s state) bool {
		_, drawn := s.drawnAt(bobID)
		return s.Players[bobID].Name == "bob" && drawn
	})
	bobAt := s.Players[bobID]
	bobDrawn, _ := s.drawnAt(bobID)
	bob.waitUntil("bob seeing alice", func(s state) bool { return s.Players[aliceID].Name == "alice" })
	if line := bob.waitUntil("bob's status line", func(s state) bool { return strings.Contains(s.Line, "2 players") }).Line; !strings.Contains(line, "rtt") {
		t.Errorf("bob's status line %q shows no round-trip time", line)
	}

	// Bob moves right with the arrow key and up with W, on his canvas.
	bob.do(chromedp.Focus(chromedp.ID("world")), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent("w"))
	alice.waitUntil("alice seeing bob move right and up", func(s state) bool {
		p := s.Players[bobID]
		d, _ := s.drawnAt(bobID)
		return p.X > bobAt.X && p.Y > bobAt.Y && d.PX > bobDrawn.PX && d.PY < bobDrawn.PY
	})
	// Where he stopped, to the bit: positions are floats on the wire.
	bobAt = bob.state().Players[bobID]
	alice.waitUntil("alice seeing bob where he stopped", func(s state) bool {
		p := s.Players[bobID]
		return p.X == bobAt.X && p.Y == bobAt.Y && !p.Running
	})

	// Chat, typed into the chat box, both ways.
	bob.do(chromedp.SendKeys(chromedp.ID("say"), "hello from bob\r"))
	alice.waitUntil("alice hearing bob", func(s state) bool { return s.heard("bob", "hello from bob") })
	alice.do(chromedp.SendKeys(chromedp.ID("say"), "hi bob\r"))
	bob.waitUntil("bob hearing alice", func(s state) bool { return s.heard("alice", "hi bob") })

	// A Go bot over TCP joins the same room: it sees both browsers' players
	// spawn, and they see it.
	gopher := newBot(t, g.tcpAddr, "gopher", room)
	for _, name := range []string{"alice", "bob"} {
		gopher.waitUntil("gopher seeing "+name, func(b *botView) bool { return b.named(name) != 0 })
	}
	gid := fmt.Sprint(gopher.id)
	for _, p := range []*page{alice, bob} {
		p.waitUntil(p.name+" seeing gopher", func(s state) bool { return s.Players[gid].Name == "gopher" })
	}

	// The bot moves and chats; the pages show it.
	gopher.move(123, -45)
	gopher.say("hello from go")
	for _, p := range []*page{alice, bob} {
		p.waitUntil(p.name+" seeing gopher move and chat", func(s state) bool {
			g := s.Players[gid]
			return g.X == 123 && g.Y == -45 && s.heard("gopher", "hello from go")
		})
	}
	// A browser's move and chat reach the bot.
	before := gopher.posOf(bobID)
	bob.do(chromedp.Focus(chromedp.ID("world")), chromedp.KeyEvent(kb.ArrowLeft))
	gopher.waitUntil("gopher seeing bob move left", func(b *botView) bool { return b.posOf(bobID).x < before.x })
	alice.do(chromedp.SendKeys(chromedp.ID("say"), "hi gopher\r"))
	gopher.waitUntil("gopher hearing alice", func(b *botView) bool { return b.heard(aliceID, "hi gopher") })

	if path := os.Getenv("MMO_SCREENSHOT"); path != "" {
		bob.screenshot(path)
	}

	// Alice closes her page: she despawns on bob's page and for the bot.
	alice.checkErrors()
	alice.close()
	bob.waitUntil("bob seeing alice despawn", func(s state) bool {
		_, drawn := s.drawnAt(aliceID)
		_, there := s.Players[aliceID]
		return !there && !drawn
	})
	gopher.waitUntil("gopher seeing alice despawn", func(b *botView) bool { return b.named("alice") == 0 })

	// Bob picks the next room: he leaves the bot's, and is alone in his.
	bob.do(chromedp.Focus(chromedp.ID("room")), chromedp.KeyEvent(kb.ArrowDown))
	bob.waitUntil("bob in the next room, alone", func(s state) bool {
		_, there := s.Players[bobID]
		return s.Phase == "in" && s.Room == room+1 && len(s.Players) == 1 && there
	})
	gopher.waitUntil("gopher seeing bob leave", func(b *botView) bool { return b.named("bob") == 0 })

	bob.checkErrors()
}
