package devzone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
)

// queryTimeout bounds one query's read of the DNSEndpoints.
const queryTimeout = 2 * time.Second

// handler answers each query: the zone's records for names in it,
// NXDOMAIN (with the SOA, as an authoritative server does) for names with
// none, and REFUSED for names outside it, since this is no resolver.
func (z *Zone) handler(log logr.Logger) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if len(req.Question) != 1 {
			m.Rcode = dns.RcodeFormatError
			_ = w.WriteMsg(m)
			return
		}
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case !dns.IsSubDomain(z.Origin, name):
			m.Authoritative = false
			m.Rcode = dns.RcodeRefused
		case name == z.Origin:
			if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
				m.Answer = append(m.Answer, z.soa())
			} else {
				m.Ns = append(m.Ns, z.soa())
			}
		default:
			ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
			a, bad, err := z.lookup(ctx, name, q.Qtype)
			cancel()
			for _, e := range bad {
				log.Info("Skipping a record the zone cannot hold", "reason", e.Error())
			}
			switch {
			case err != nil:
				log.Error(err, "Reading the zone failed", "name", name)
				m.Rcode = dns.RcodeServerFailure
			case len(a.records) > 0:
				m.Answer = a.records
			case a.nameExists:
				m.Ns = append(m.Ns, z.soa())
			default:
				m.Rcode = dns.RcodeNameError
				m.Ns = append(m.Ns, z.soa())
			}
		}
		_ = w.WriteMsg(m)
	}
}

// Server is the zone served over UDP and TCP on one address.
type Server struct {
	pc       net.PacketConn
	ln       net.Listener
	udp, tcp *dns.Server
	// Addr is where both listen (host:port).
	Addr string
}

// Bind takes addr for UDP and TCP (a port of 0 picks one free for both);
// nothing is answered until Serve.
func Bind(addr string) (*Server, error) {
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	return &Server{pc: pc, ln: ln, Addr: ln.Addr().String()}, nil
}

// Listen binds addr and answers for z at once.
func Listen(addr string, z *Zone, log logr.Logger) (*Server, error) {
	s, err := Bind(addr)
	if err != nil {
		return nil, err
	}
	s.Serve(z, log)
	return s, nil
}

// Serve starts answering for z on the bound sockets.
func (s *Server) Serve(z *Zone, log logr.Logger) {
	h := z.handler(log)
	s.udp = &dns.Server{PacketConn: s.pc, Handler: h}
	s.tcp = &dns.Server{Listener: s.ln, Handler: h}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Error(err, "The dev DNS server stopped")
			}
		}()
	}
}

// Shutdown stops answering and frees the sockets.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.udp == nil {
		return errors.Join(s.pc.Close(), s.ln.Close())
	}
	return errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
}

// listenBoth binds UDP and TCP on one port; with port 0 it retries until
// the port the kernel gave TCP is free for UDP too.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("DNS address %q: %w", addr, err)
	}
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("dev DNS cannot listen on %s/tcp: %w", addr, err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			return pc, ln, nil
		}
		ln.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("dev DNS cannot listen on %s/udp: %w", addr, err)
		}
	}
	return nil, nil, fmt.Errorf("no port on %s is free for both TCP and UDP", host)
}
