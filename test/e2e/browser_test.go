package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser drives Debian's chromium through chromedp. Each session is a
// separate browser context (its own cookies), like a separate person.
type browser struct {
	t     *testing.T
	root  context.Context // the running browser
	shots string          // where screenshots go
}

// findChromium locates the browser. `make test` requires one (.ci/run
// installs Debian's chromium); outside CI a machine without it skips the
// browser tests with a message saying how to get them.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium found on PATH (or $CHROME_BIN): .ci/run must install Debian's chromium")
	}
	t.Skip("no chromium found on PATH (or $CHROME_BIN); install it (apt-get install chromium) to run the browser tests")
	return ""
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	execPath := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		// CI runs as root, where chromium refuses its sandbox.
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout, which
	// would stop the whole browser when it fires.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium (%s): %v", execPath, err)
	}
	shots := os.Getenv("JETWAY_TEST_ARTIFACTS")
	if shots == "" {
		shots = filepath.Join("..", "..", "test-artifacts")
	}
	shots = filepath.Join(shots, "e2e-browser")
	// Only this run's screenshots, so a FAILED one is never stale.
	if err := os.RemoveAll(shots); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, root: root, shots: shots}
}

// session is one person's browser context.
type session struct {
	t    *testing.T
	b    *browser
	name string
	ctx  context.Context
}

func (b *browser) session(t *testing.T, name string) *session {
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab and binds it to the context it is given,
	// so it must not be one of the short-lived step contexts.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser context for %s: %v", name, err)
	}
	return &session{t: t, b: b, name: name, ctx: ctx}
}

// do runs steps with a deadline, screenshotting the page if they fail.
func (s *session) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.screenshot("FAILED-" + what)
		html, _ := s.run(chromedp.OuterHTML(chromedp.CSS("html")))
		loc, _ := s.run(chromedp.Location())
		s.t.Fatalf("%s: %s: %v\nat %s\n%s", s.name, what, err, loc, html)
	}
}

func (s *session) run(a chromedp.Action[string]) (string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, a)
}

func (s *session) text(sel string) string {
	s.t.Helper()
	v, err := s.run(chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("%s: read %s: %v", s.name, sel, err)
	}
	return strings.TrimSpace(v)
}

func (s *session) location() string {
	s.t.Helper()
	v, err := s.run(chromedp.Location())
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

func (s *session) count(sel string) int {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		s.t.Fatalf("%s: count %s: %v", s.name, sel, err)
	}
	return len(nodes)
}

// attributes reads the attributes of every node sel matches, in page order.
func (s *session) attributes(sel string) []map[string]string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	attrs, err := chromedp.Run(ctx, chromedp.AttributesAll(chromedp.CSSAll(sel)))
	if err != nil {
		s.t.Fatalf("%s: read attributes of %s: %v", s.name, sel, err)
	}
	return attrs
}

// screenshot saves the whole page as test-artifacts/e2e-browser/<session>-<name>.png.
func (s *session) screenshot(name string) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(s.b.shots, s.name+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Logf("save screenshot: %v", err)
	}
}
