package dns

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// tsigKeyName names the key external-dns signs its updates with.
const tsigKeyName = "jetway-dns-test."

// bindServer is a real BIND (Debian's bind9) serving one zone on a
// loopback port, accepting RFC 2136 updates and zone transfers signed with
// a TSIG key made for this run.
type bindServer struct {
	addr   string // host:port, UDP and TCP
	zone   string // with the trailing dot
	secret string // base64 HMAC-SHA256 key
	cmd    *exec.Cmd
	// done is closed once the process has exited, with exitErr set.
	done    chan struct{}
	exitErr error
	log     string
}

// startBIND writes named.conf, the key and an empty zone into dir and
// starts named in the foreground. As root it drops to Debian's bind user
// (-u bind), which then needs to own dir; as anyone else it runs as them.
func startBIND(dir, zone string) (*bindServer, error) {
	named, err := exec.LookPath("named")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/named"); statErr != nil {
			return nil, fmt.Errorf("named not found (apt-get install bind9; .ci/run does): %w", err)
		}
		named = "/usr/sbin/named"
	}
	port, err := freeUDPAndTCPPort()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	b := &bindServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), zone: dns.Fqdn(zone),
		secret: base64.StdEncoding.EncodeToString(key), done: make(chan struct{}), log: filepath.Join(dir, "named.log")}
	if err := b.writeConfig(dir, port); err != nil {
		return nil, err
	}
	args := []string{"-g", "-c", filepath.Join(dir, "named.conf")}
	if os.Geteuid() == 0 {
		if err := chownTo(dir, "bind"); err != nil {
			return nil, fmt.Errorf("named refuses to run as root with a folder it cannot write as bind: %w", err)
		}
		args = append(args, "-u", "bind")
	}
	logFile, err := os.Create(b.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	b.cmd = exec.Command(named, args...)
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start named: %w", err)
	}
	go func() { b.exitErr = b.cmd.Wait(); close(b.done) }()
	if err := b.waitServing(30 * time.Second); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bindServer) writeConfig(dir string, port int) error {
	conf := fmt.Sprintf(`key "%[1]s" { algorithm hmac-sha256; secret "%[2]s"; };
options {
	directory "%[3]s";
	pid-file "%[3]s/named.pid";
	// Everything named writes stays in dir, so it runs as any user.
	session-keyfile "%[3]s/session.key";
	managed-keys-directory "%[3]s";
	listen-on port %[4]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	allow-transfer { key "%[1]s"; };
};
controls { };
zone "%[5]s" {
	type primary;
	file "%[3]s/zone.db";
	allow-update { key "%[1]s"; };
};
`, tsigKeyName, b.secret, dir, port, b.zone)
	// The zone starts with only its SOA and NS: every record in it later
	// came from external-dns.
	zoneFile := fmt.Sprintf(`$TTL 60
@	IN SOA ns.%[1]s hostmaster.%[1]s 1 60 60 600 1
@	IN NS ns.%[1]s
ns	IN AAAA ::1
`, b.zone)
	if err := os.WriteFile(filepath.Join(dir, "named.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "zone.db"), []byte(zoneFile), 0o600)
}

// waitServing waits until named answers the zone's SOA.
func (b *bindServer) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-b.done:
			return fmt.Errorf("named exited before serving (%w); its log:\n%s", b.exitErr, readFile(b.log))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r, err := query(ctx, b.addr, b.zone, dns.TypeSOA)
		cancel()
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("named did not serve %s within %s (last: %w); its log:\n%s", b.zone, timeout, err, readFile(b.log))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bindServer) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

func chownTo(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(path, uid, gid)
	})
}

// freeUDPAndTCPPort finds a loopback port free for both, as named listens
// on both.
func freeUDPAndTCPPort() (int, error) {
	for range 20 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		tl.Close()
		if err == nil {
			ul.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no loopback port free for both TCP and UDP")
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
