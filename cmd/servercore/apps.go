package main

import (
	"servercore"
	"servercore/examples/broadcast"
	"servercore/examples/echo"
	"servercore/internal/bot"
)

// app is a server application and the bot that load-tests it. The game,
// whose sessions share a world, has neither: serve makes a mmo.Game for it
// and stress the bots of its flags.
type app struct {
	newSession func() servercore.PacketHandler
	newBot     func(*bot.Run) bot.Driver
	game       bool
}

// appNames are the applications' names, as usage messages list them.
const appNames = "mmo, echo or broadcast"

// lookupApp returns the application called name, as --app and --mode name
// it; ok is false for an unknown name.
func lookupApp(name string) (a app, ok bool) {
	switch name {
	case "echo":
		return app{echo.NewSession, echo.NewBot, false}, true
	case "broadcast":
		return app{broadcast.NewSession, broadcast.NewBot, false}, true
	case "mmo":
		return app{game: true}, true
	}
	return app{}, false
}
