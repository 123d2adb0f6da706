package flyside

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadEnvFile reads the KEY=VALUE file `make run` writes (.jetway/dev.env), so
// `jetway-dev fly` finds the local gateway and its secret without flags. Blank
// lines and # comments are skipped, an "export " prefix is allowed, and one
// pair of matching quotes around a value is removed. It does not expand
// variables: the file is written by us, not by a shell user.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("read env file %s:%d: want KEY=VALUE", path, n)
		}
		vals[key] = unquote(strings.TrimSpace(val))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read env file %s: %w", path, err)
	}
	return vals, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
