// Package echopb holds the packets of the typed echo, generated from
// echo.proto by protoc-gen-go and protoc-gen-servercore.
package echopb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative --servercore_out=. --servercore_opt=paths=source_relative echo.proto
