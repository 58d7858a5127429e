// Package mmopb holds the packets of the MMO sample, generated from mmo.proto
// by protoc-gen-go and protoc-gen-servercore.
package mmopb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative --servercore_out=. --servercore_opt=paths=source_relative mmo.proto
