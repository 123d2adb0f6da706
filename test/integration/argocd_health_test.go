package integration

import (
	"fmt"
	"os"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The Argo CD health check for Extension (docs/gitops.md) and the
// argocd-cm snippet that installs it.
const (
	argoHealthScript = "../../config/gitops/argocd/health.lua"
	argoCMSnippet    = "../../config/gitops/argocd/argocd-cm.yaml"
	argoHealthKey    = "resource.customizations.health.jetway.dev_Extension"
)

// Argo CD's health words (gitops-engine pkg/health).
const (
	argoHealthy     = "Healthy"
	argoProgressing = "Progressing"
	argoDegraded    = "Degraded"
	argoSuspended   = "Suspended"
)

// argoHealth runs the Argo CD health script over obj the way Argo CD does
// (argo-cd util/lua): the object as a Lua table in the global obj, only the
// base, table, string and math libraries open, and the returned table's
// status and message as the answer. A script error or an answer Argo CD
// would not accept fails the test.
func argoHealth(t testing.TB, obj *unstructured.Unstructured) (status, message string) {
	t.Helper()
	script, err := os.ReadFile(argoHealthScript)
	if err != nil {
		t.Fatalf("read the Argo CD health script: %v", err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable,
		lua.StringLibName: lua.OpenString, lua.MathLibName: lua.OpenMath,
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			t.Fatalf("open Lua library %s: %v", name, err)
		}
	}
	L.SetGlobal("obj", luaValue(L, obj.Object))
	if err := L.DoString(string(script)); err != nil {
		t.Fatalf("Argo CD health script failed on %s: %v", obj.GetName(), err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("Argo CD health script returned %s, not a table", L.Get(-1).Type())
	}
	status = lua.LVAsString(hs.RawGetString("status"))
	message = lua.LVAsString(hs.RawGetString("message"))
	switch status {
	case argoHealthy, argoProgressing, argoDegraded, argoSuspended:
	default:
		t.Fatalf("Argo CD health script answered status %q, which Argo CD does not know", status)
	}
	if message == "" {
		t.Errorf("Argo CD health script answered %s with no message", status)
	}
	return status, message
}

// luaValue converts JSON-shaped Go values into Lua values as Argo CD's
// decodeValue does: objects and arrays become tables (arrays 1-based).
func luaValue(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case map[string]any:
		tbl := L.NewTable()
		for k, item := range v {
			tbl.RawSetString(k, luaValue(L, item))
		}
		return tbl
	case []any:
		tbl := L.NewTable()
		for i, item := range v {
			tbl.RawSetInt(i+1, luaValue(L, item))
		}
		return tbl
	default:
		panic(fmt.Sprintf("luaValue: unexpected %T in an unstructured object", v))
	}
}

// TestArgoCDSnippetCarriesTheHealthScript: the argocd-cm snippet operators
// copy is the script the tests run, not a copy that drifted.
func TestArgoCDSnippetCarriesTheHealthScript(t *testing.T) {
	script, err := os.ReadFile(argoHealthScript)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(argoCMSnippet)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(raw, cm); err != nil {
		t.Fatalf("%s is not a ConfigMap: %v", argoCMSnippet, err)
	}
	if cm.Name != "argocd-cm" {
		t.Errorf("%s names ConfigMap %q; Argo CD reads argocd-cm", argoCMSnippet, cm.Name)
	}
	if got := cm.Data[argoHealthKey]; got != string(script) {
		t.Errorf("%s key %s differs from %s; paste the script again", argoCMSnippet, argoHealthKey, argoHealthScript)
	}
}
