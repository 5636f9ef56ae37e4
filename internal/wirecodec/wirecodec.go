// Package wirecodec is the gRPC codec both ends use: gRPC's proto codec,
// except that a message refused because a string field is not valid UTF-8
// says which field (protobuf's own error names none), so that bad input
// through the API is refused naming the field like everywhere else
// (docs/limits.md).
package wirecodec

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the codec wrapped here
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Codec returns the codec, for grpc.ForceServerCodecV2 and
// grpc.ForceCodecV2.
func Codec() encoding.CodecV2 { return codec{base: encoding.GetCodecV2("proto")} }

type codec struct{ base encoding.CodecV2 }

func (c codec) Name() string { return c.base.Name() }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	out, err := c.base.Marshal(v)
	if err != nil {
		if m, ok := v.(proto.Message); ok {
			if f := invalidString(m.ProtoReflect(), ""); f != "" {
				return nil, fmt.Errorf("%s is not valid UTF-8", f)
			}
		}
	}
	return out, err
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	if err != nil {
		if m, ok := v.(proto.Message); ok {
			if f := invalidWire(data.Materialize(), m.ProtoReflect().Descriptor(), ""); f != "" {
				return fmt.Errorf("%s is not valid UTF-8", f)
			}
		}
	}
	return err
}

// invalidString names the first string field of m (at any depth) that is
// not valid UTF-8, or returns "".
func invalidString(m protoreflect.Message, prefix string) string {
	var found string
	check := func(name string, fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.ValidString(v.String()):
			found = name
		case fd.Message() != nil:
			found = invalidString(v.Message(), name+".")
		}
		return found == ""
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				check(fmt.Sprintf("%s[%d]", name, i), fd, l.Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				if fd.MapKey().Kind() == protoreflect.StringKind && !utf8.ValidString(k.String()) {
					found = name + " key"
					return false
				}
				return check(fmt.Sprintf("%s[%q]", name, k.String()), fd.MapValue(), v)
			})
		default:
			check(name, fd, v)
		}
		return found == ""
	})
	return found
}

// invalidWire is invalidString for a message's encoding, which could not
// be decoded.
func invalidWire(b []byte, md protoreflect.MessageDescriptor, prefix string) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return ""
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		switch {
		case fd == nil:
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			return prefix + string(fd.Name())
		case fd.Message() != nil:
			if f := invalidWire(v, fd.Message(), prefix+string(fd.Name())+"."); f != "" {
				return f
			}
		}
	}
	return ""
}
