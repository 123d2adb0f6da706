package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// leaderMetric is client-go's leader election gauge, which controller-runtime
// serves: 1 while this process holds the lease.
const leaderMetric = "leader_election_master_status"

// Leads reports whether the current run holds the leader lease, as its
// metrics say; it needs MetricsAddr.
func (p *ManagerProcess) Leads(ctx context.Context) (bool, error) {
	if p.MetricsAddr == "" {
		return false, errors.New("the manager serves no metrics: set MetricsAddr")
	}
	if p.Pid() == 0 {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.MetricsAddr+"/metrics", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("metrics of %s: HTTP %d", p.MetricsAddr, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return false, fmt.Errorf("metrics of %s: %w", p.MetricsAddr, err)
	}
	for _, m := range families[leaderMetric].GetMetric() {
		if m.GetGauge().GetValue() == 1 {
			return true, nil
		}
	}
	return false, nil
}

// WaitLeader returns the index of the running manager that leads, once one
// does.
func WaitLeader(ctx context.Context, managers []*ManagerProcess, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		for i, m := range managers {
			if leads, err := m.Leads(ctx); err == nil && leads {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no manager led within %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
