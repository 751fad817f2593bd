package gen

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/emicklei/proto"
)

// ParseProto reads a protobuf file and returns one endpoint per RPC of every
// service: POST /<package>.<Service>/<Method>, the path gRPC uses.
func ParseProto(data []byte) (spec *Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("the protobuf reader failed on this file: %v", r)
		}
	}()
	def, err := proto.NewParser(bytes.NewReader(data)).Parse()
	if err != nil {
		return nil, fmt.Errorf("not a protobuf file: %v", err)
	}
	pkg := ""
	spec = &Spec{}
	var services []*proto.Service
	proto.Walk(def,
		proto.WithPackage(func(p *proto.Package) { pkg = p.Name }),
		proto.WithService(func(s *proto.Service) { services = append(services, s) }))
	for _, s := range services {
		full := s.Name
		if pkg != "" {
			full = pkg + "." + s.Name
		}
		n := 0
		for _, el := range s.Elements {
			rpc, ok := el.(*proto.RPC)
			if !ok {
				continue
			}
			n++
			p := "/" + full + "/" + rpc.Name
			if err := checkPath(p); err != nil || strings.Count(p, "/") != 2 {
				return nil, fmt.Errorf("service %s: method %q does not give a gRPC path", full, rpc.Name)
			}
			spec.Endpoints = append(spec.Endpoints, Endpoint{Method: "POST", Path: p, Service: full, RPC: rpc.Name})
		}
		if n == 0 {
			spec.Notes = append(spec.Notes, fmt.Sprintf("service %s has no rpc: no route", full))
		}
	}
	if len(spec.Endpoints) == 0 {
		return nil, errors.New("the file defines no service with an rpc")
	}
	return spec, nil
}
