package dns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// externalDNSVersion is the release hack/build-external-dns.sh builds.
const externalDNSVersion = "v0.20.0"

// externalDNSUser is who external-dns signs in to the API server as; it
// may do only what the chart's ClusterRole lets it (externalDNSRules).
const externalDNSUser = "system:serviceaccount:jetway-system:external-dns"

// externalDNSRules are the least external-dns's CRD source needs: read
// DNSEndpoints and write the observedGeneration into their status.
var externalDNSRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints/status"}, Verbs: []string{"update", "patch"}},
}

// externalDNSBinary finds the external-dns that `make external-dns` built
// beside the envtest binaries, or $EXTERNAL_DNS_BIN.
func externalDNSBinary() (string, error) {
	bin := os.Getenv("EXTERNAL_DNS_BIN")
	if bin == "" {
		bin = filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "external-dns-"+externalDNSVersion)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("external-dns is not built (`make external-dns` builds it): %w", err)
	}
	return bin, nil
}

type externalDNS struct {
	cmd *exec.Cmd
	// done is closed once the process has exited, with exitErr set.
	done    chan struct{}
	exitErr error
	log     string
}

// startExternalDNS runs external-dns as a cluster would, with the CRD
// source and the RFC 2136 provider against b, signed in as
// externalDNSUser.
//
// The registry is txt: external-dns writes a TXT record beside each record
// naming its owner, and never changes or deletes a record whose TXT does
// not name it, so records someone else put in the zone are safe. It is
// what the chart uses, so the test runs the production configuration.
func startExternalDNS(ctx context.Context, env *envtest.Environment, admin client.Client, b *bindServer, dir string) (*externalDNS, error) {
	bin, err := externalDNSBinary()
	if err != nil {
		return nil, err
	}
	if err := grantExternalDNS(ctx, admin); err != nil {
		return nil, err
	}
	u, err := env.AddUser(envtest.User{Name: externalDNSUser}, nil)
	if err != nil {
		return nil, fmt.Errorf("add user %s: %w", externalDNSUser, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err != nil {
		return nil, err
	}
	kubeconfigPath := filepath.Join(dir, "external-dns.kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	host, port := splitHostPort(b.addr)
	// external-dns matches each record to a zone by suffix; a zone given
	// with its trailing dot matches none and the update goes to the root.
	zone := strings.TrimSuffix(b.zone, ".")
	e := &externalDNS{done: make(chan struct{}), log: filepath.Join(dir, "external-dns.log")}
	logFile, err := os.Create(e.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	e.cmd = exec.Command(bin,
		"--kubeconfig="+kubeconfigPath,
		"--source=crd", "--crd-source-apiversion=externaldns.k8s.io/v1alpha1", "--crd-source-kind=DNSEndpoint",
		"--provider=rfc2136", "--rfc2136-host="+host, "--rfc2136-port="+port, "--rfc2136-zone="+zone,
		"--rfc2136-tsig-keyname="+tsigKeyName, "--rfc2136-tsig-secret-alg=hmac-sha256", "--rfc2136-tsig-axfr",
		"--domain-filter="+zone,
		"--registry=txt", "--txt-owner-id=jetway-dns-test",
		// A change reaches BIND within moments (the watch) and at the
		// latest a second later (the loop).
		"--events", "--interval=1s", "--min-event-sync-interval=200ms",
		"--metrics-address=127.0.0.1:0", "--log-level=debug",
	)
	// The TSIG secret goes by environment, as the chart passes it from a
	// Secret, so it is in no process listing (external-dns reads
	// EXTERNAL_DNS_<FLAG>).
	e.cmd.Env = append(os.Environ(), "EXTERNAL_DNS_RFC2136_TSIG_SECRET="+b.secret)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start external-dns: %w", err)
	}
	go func() { e.exitErr = e.cmd.Wait(); close(e.done) }()
	return e, nil
}

func grantExternalDNS(ctx context.Context, admin client.Client) error {
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "external-dns"}, Rules: externalDNSRules}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "external-dns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: externalDNSUser}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := admin.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// running fails if external-dns has exited, with its log.
func (e *externalDNS) running() error {
	select {
	case <-e.done:
		return fmt.Errorf("external-dns exited (%w); its log:\n%s", e.exitErr, readFile(e.log))
	default:
		return nil
	}
}

func (e *externalDNS) stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	_ = e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}
