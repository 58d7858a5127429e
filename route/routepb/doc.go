// Package routepb holds the Go form of servercore/options.proto, the
// options protoc-gen-servercore reads (an explicit packet id per message).
//
// Generated code imports it when a .proto file imports
// "servercore/options.proto"; programs rarely use it directly.
package routepb

//go:generate protoc -I ../../proto --go_out=. --go_opt=module=servercore/route/routepb servercore/options.proto
