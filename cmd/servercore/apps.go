package main

import (
	"servercore"
	"servercore/examples/broadcast"
	"servercore/examples/echo"
	"servercore/internal/bot"
)

// app is a server application and the bot that load-tests it.
type app struct {
	newSession func() servercore.PacketHandler
	newBot     func(*bot.Run) bot.Driver
}

// lookupApp returns the application called name, as --app and --mode name
// it; ok is false for an unknown name.
func lookupApp(name string) (a app, ok bool) {
	switch name {
	case "echo":
		return app{echo.NewSession, echo.NewBot}, true
	case "broadcast":
		return app{broadcast.NewSession, broadcast.NewBot}, true
	}
	return app{}, false
}
