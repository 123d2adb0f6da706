package devstack

import (
	"fmt"
	"net"
	"path/filepath"
)

// Replicas describes manager processes run side by side against one API
// server and one Fly, as a Deployment's pods are: each with its own gateway,
// metrics endpoint and state folder, leader election on when there are
// several.
type Replicas struct {
	Count int
	// Bin, Kubeconfig and the Fly settings are every replica's.
	Bin        string
	Kubeconfig string
	FlyURL     string
	FlyToken   string
	FlyOrg     string
	Secret     string
	// Dir receives each replica's state folder and log, named by index.
	Dir string
	// Args are further flags for every replica, after the election's.
	Args []string
}

// New makes the processes, on free loopback ports, without starting them.
func (r Replicas) New() ([]*ManagerProcess, error) {
	count := max(1, r.Count)
	election := []string{"--leader-elect=false"}
	if count > 1 {
		election = []string{"--leader-elect=true", "--leader-election-namespace", "default"}
	}
	out := make([]*ManagerProcess, 0, count)
	for i := range count {
		gateway, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		metrics, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		out = append(out, &ManagerProcess{
			Bin:         r.Bin,
			Kubeconfig:  r.Kubeconfig,
			FlyURL:      r.FlyURL,
			FlyToken:    r.FlyToken,
			FlyOrg:      r.FlyOrg,
			Secret:      r.Secret,
			GatewayAddr: gateway,
			MetricsAddr: metrics,
			StateDir:    filepath.Join(r.Dir, fmt.Sprintf("state-%d", i)),
			LogPath:     filepath.Join(r.Dir, fmt.Sprintf("manager-%d.log", i)),
			Args:        append(append([]string(nil), election...), r.Args...),
		})
	}
	return out, nil
}

// FreeAddr is a loopback address with a port free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
