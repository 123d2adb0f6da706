package image

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is the part of a Dockerfile an image's config comes from: the
// final stage's instructions, with build arguments substituted the way
// `docker build --build-arg` substitutes them.
type dockerfile struct {
	// argDefaults are the defaults of ARGs declared before the first FROM.
	argDefaults map[string]string
	finalFrom   string
	user        string
	workdir     string
	entrypoint  []string
	cmd         []string
	env         []string
	labels      map[string]string
}

// instruction is one Dockerfile instruction, its continuation lines joined.
type instruction struct {
	keyword, args string
}

func instructions(src string) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		// Docker drops comment lines, also inside a continued instruction.
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		keyword, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(keyword), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

var argRef = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// parseDockerfile reads the final stage of path, with buildArgs given as
// `--build-arg`s (an ARG left out takes its default).
func parseDockerfile(t *testing.T, path string, buildArgs map[string]string) dockerfile {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{argDefaults: map[string]string{}, labels: map[string]string{}}
	seenFrom := false
	var stageArgs map[string]string
	expand := func(s string) string {
		return argRef.ReplaceAllStringFunc(s, func(ref string) string {
			m := argRef.FindStringSubmatch(ref)
			name := m[1] + m[2]
			v, ok := stageArgs[name]
			if !ok {
				t.Fatalf("%s uses $%s, which its stage does not declare with ARG", path, name)
			}
			return v
		})
	}
	for _, in := range instructions(string(src)) {
		switch in.keyword {
		case "ARG":
			for _, decl := range words(t, in.args) {
				name, def, hasDefault := strings.Cut(decl, "=")
				if !seenFrom {
					d.argDefaults[name] = def
					continue
				}
				v, given := buildArgs[name]
				switch {
				case given:
				case hasDefault:
					v = def
				default:
					v = d.argDefaults[name]
				}
				stageArgs[name] = v
			}
		case "FROM":
			// A new stage: only the final one's settings make the image.
			seenFrom = true
			fields := strings.Fields(in.args)
			d = dockerfile{argDefaults: d.argDefaults, labels: map[string]string{}, finalFrom: fields[len(fields)-1]}
			if len(fields) >= 3 && strings.EqualFold(fields[len(fields)-2], "AS") {
				d.finalFrom = fields[len(fields)-3]
			}
			stageArgs = map[string]string{}
		case "USER":
			d.user = expand(in.args)
		case "WORKDIR":
			d.workdir = expand(in.args)
		case "ENTRYPOINT":
			d.entrypoint = execForm(t, in)
		case "CMD":
			d.cmd = execForm(t, in)
		case "ENV":
			for _, kv := range words(t, in.args) {
				d.env = append(d.env, expand(kv))
			}
		case "LABEL":
			for _, kv := range words(t, in.args) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("%s: LABEL %q is not key=value", path, kv)
				}
				d.labels[k] = expand(v)
			}
		}
	}
	if !seenFrom {
		t.Fatalf("%s has no FROM", path)
	}
	return d
}

// execForm reads the JSON form of ENTRYPOINT or CMD; the shell form needs a
// shell, which the image has none of.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(in.args), &argv); err != nil {
		t.Fatalf("%s %s is not the exec (JSON) form: the image has no shell to run the shell form: %v", in.keyword, in.args, err)
	}
	return argv
}

// words splits on spaces outside double quotes and drops the quotes.
func words(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}
