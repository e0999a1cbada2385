// Package proto holds the wire contract between an edgerun host and a plugin:
// model.proto (package edgerun.sdk.v1, service Model) and the Go code
// generated from it (model.pb.go, model_grpc.pb.go). Never edit the generated
// files: change model.proto and run `make generate`.
//
// Plugins and hosts do not use this package directly; package sdk translates
// between these messages and its Go types. It imports nothing of edgerun.
package proto

//go:generate go -C _gen run . -proto ../model.proto -out ..
