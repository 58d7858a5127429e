// Package route is what the code protoc-gen-servercore generates imports:
// protobuf messages routed by packet id, in both directions.
//
// For each .proto file, protoc-gen-servercore generates the packet ids, a
// handler interface for each side (one typed method per C_ message on the
// server, one per S_ message on the client), the dispatch from a packet's
// id and payload to the typed method, and per message a function that
// marshals it straight into a pooled servercore.SendBuffer. The generated
// code calls this package for the parts that are the same for every
// message: marshalling in place (Marshal, Send), decoding (Unmarshal) and
// the errors of a packet that cannot be dispatched (PacketError).
//
// A packet that cannot be dispatched — an unknown id, a message meant for
// the other side, a payload that does not decode — is a *PacketError
// wrapping servercore.ErrProtocol; the generated session adapters end that
// session with it, and no other session notices.
package route
