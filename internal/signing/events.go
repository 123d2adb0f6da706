package signing

// EventMessage is what X-Signature covers on a machine event (a CloudEvent)
// in binary content mode: its identifying attributes travel in headers, so
// they are signed together with the body, one per line, or an attacker
// could replay a body under another type or id. In structured mode the
// attributes are in the body, and the raw body alone is signed.
func EventMessage(id, typ, source, time string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(typ)+len(source)+len(time)+4+len(body))
	for _, part := range []string{id, typ, source, time} {
		msg = append(msg, part...)
		msg = append(msg, '\n')
	}
	return append(msg, body...)
}
