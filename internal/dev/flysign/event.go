package flysign

// EventMessage is what X-Signature covers on a machine event sent as a
// binary-mode CloudEvent: the id, type, source and time attributes as sent
// in the ce- headers, each followed by a newline, then the raw body. The
// attributes travel outside the body, so signing the body alone would let
// anyone replay it under another id or type.
func EventMessage(id, typ, source, time string, body []byte) []byte {
	var msg []byte
	for _, attr := range []string{id, typ, source, time} {
		msg = append(msg, attr...)
		msg = append(msg, '\n')
	}
	return append(msg, body...)
}
