// The oracle of scripts/deps-oracle/run.sh: Karmada's own default resource interpreter
// (native.NewDefaultInterpreter().GetDependencies), built inside a Karmada checkout. Our code,
// calling Karmada's; no Karmada code is copied here.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	configv1alpha1 "github.com/karmada-io/karmada/pkg/apis/config/v1alpha1"
	"github.com/karmada-io/karmada/pkg/resourceinterpreter/default/native"
)

// Reads one JSON object per line on stdin and prints, per object, one line: {"dependencies":[...]}
// sorted by apiVersion, kind, namespace, name (what `karmada-takeover deps -o json` prints; an
// empty list for a kind without a handler), or {"error":"..."} where Karmada's interpreter fails.
func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<24), 1<<24)
	interp := native.NewDefaultInterpreter()
	for in.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(in.Bytes(), &obj); err != nil {
			fmt.Println(`{"error":"bad json"}`)
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if !interp.HookEnabled(u.GroupVersionKind(), configv1alpha1.InterpreterOperationInterpretDependency) {
			fmt.Println(`{"dependencies":[]}`)
			continue
		}
		deps, err := interp.GetDependencies(u)
		if err != nil {
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			fmt.Println(string(b))
			continue
		}
		sort.SliceStable(deps, func(i, j int) bool {
			a, b := deps[i], deps[j]
			if a.APIVersion != b.APIVersion {
				return a.APIVersion < b.APIVersion
			}
			if a.Kind != b.Kind {
				return a.Kind < b.Kind
			}
			if a.Namespace != b.Namespace {
				return a.Namespace < b.Namespace
			}
			return a.Name < b.Name
		})
		if deps == nil {
			deps = []configv1alpha1.DependentObjectReference{}
		}
		b, _ := json.Marshal(map[string]any{"dependencies": deps})
		fmt.Println(string(b))
	}
}
