// Package testpb holds packets of every shape for the tests of route and
// of the code protoc-gen-servercore generates.
package testpb

//go:generate protoc -I . -I ../../../proto --go_out=. --go_opt=paths=source_relative --servercore_out=. --servercore_opt=paths=source_relative packets.proto
