package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// request builds the plugin request protoc would send for files, from the
// FileDescriptorSet compiled from them into testdata/set.pb.
func request(t *testing.T, set string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", set+".pb"))
	if err != nil {
		t.Fatal(err)
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &fds); err != nil {
		t.Fatal(err)
	}
	return &pluginpb.CodeGeneratorRequest{
		FileToGenerate: files,
		Parameter:      proto.String("paths=source_relative"),
		ProtoFile:      fds.File,
	}
}

// runPlugin runs the plugin in-process on req, as protoc would.
func runPlugin(t *testing.T, req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	t.Helper()
	gen, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(gen); err != nil {
		return nil, err
	}
	return gen.Response(), nil
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"seed", "explicit", "nopackets", "required"} {
		t.Run(name, func(t *testing.T) {
			resp, err := runPlugin(t, request(t, name, name+".proto"))
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for _, f := range resp.File {
				if f.GetName() != name+"_servercore.pb.go" {
					t.Errorf("unexpected file %s", f.GetName())
				}
				got = []byte(f.GetContent())
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -run TestGolden -update rewrites it):\n%s", golden, got)
			}
		})
	}
}
