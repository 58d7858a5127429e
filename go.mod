module servercore

go 1.26.0

require golang.org/x/sys v0.50.0

require google.golang.org/protobuf v1.36.11

// Used only by tests: WebSocket clients no one here wrote.
require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
)
