// Command _gen regenerates sdk/proto's Go code from model.proto without
// protoc: github.com/bufbuild/protocompile compiles the .proto into
// descriptors, which go as a pluginpb.CodeGeneratorRequest to protoc-gen-go
// and protoc-gen-go-grpc, run as `go tool` (their versions are pinned by the
// tool directives of this module's go.mod). The plugins' answers are written
// beside the .proto.
//
// It is its own module so that the main module never depends on the
// generators, and the leading underscore keeps it out of ./... .
//
//	cd sdk/proto/_gen && go run .     (what `make generate` runs, via sdk/proto/gen.go)
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("sdk/proto/_gen: ")
	src := flag.String("proto", "../model.proto", "the .proto file to compile")
	name := flag.String("name", "edgerun/sdk/v1/model.proto", "the name it is compiled and registered under")
	out := flag.String("out", "..", "directory the generated files are written to")
	flag.Parse()

	req, err := request(*src, *name)
	if err != nil {
		log.Fatal(err)
	}
	for _, plugin := range []string{"protoc-gen-go", "protoc-gen-go-grpc"} {
		files, err := run(plugin, req)
		if err != nil {
			log.Fatalf("%s: %v", plugin, err)
		}
		for _, f := range files {
			path := filepath.Join(*out, filepath.Base(f.GetName()))
			if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
				log.Fatal(err)
			}
			fmt.Println("wrote", path)
		}
	}
}

// request compiles src under the given name and returns the code generator
// request protoc would send for it.
func request(src, name string) (*pluginpb.CodeGeneratorRequest, error) {
	comp := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: func(path string) (io.ReadCloser, error) {
				if path == name {
					return os.Open(src)
				}
				return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
			},
		}),
		// Comments go into the generated code as doc comments.
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := comp.Compile(context.Background(), name)
	if err != nil {
		return nil, err
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{name},
		Parameter:      proto.String("paths=source_relative"),
	}
	// Every file with its dependencies first, as protoc orders them.
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		fdp := protodesc.ToFileDescriptorProto(fd)
		req.ProtoFile = append(req.ProtoFile, fdp)
		if fd.Path() == name {
			req.SourceFileDescriptors = append(req.SourceFileDescriptors, proto.Clone(fdp).(*descriptorpb.FileDescriptorProto))
		}
	}
	for _, f := range files {
		add(f)
	}
	return req, nil
}

// run runs one protoc plugin on req and returns the files it generated.
func run(plugin string, req *pluginpb.CodeGeneratorRequest) ([]*pluginpb.CodeGeneratorResponse_File, error) {
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "tool", plugin)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("%s", resp.GetError())
	}
	for _, f := range resp.File {
		if f.GetInsertionPoint() != "" || f.GetName() == "" {
			return nil, fmt.Errorf("unsupported response file %q (insertion point %q)", f.GetName(), f.GetInsertionPoint())
		}
	}
	return resp.File, nil
}
