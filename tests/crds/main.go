// Command karpenter-crds writes the CRDs that Karpenter's AWS provider embeds in
// github.com/aws/karpenter-provider-aws/pkg/apis (apis.CRDs: EC2NodeClass and the
// karpenter.sh kinds NodePool, NodeClaim, ...) as one YAML file per CRD, named like
// upstream's controller-gen output: <group>_<plural>.yaml.
//
// Usage: karpenter-crds OUT_DIR
//
// tests/crds/export.sh builds it against the version pinned in
// group_vars/all/versions.yml, in a generated module outside the repository.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/aws/karpenter-provider-aws/pkg/apis"
	"sigs.k8s.io/yaml"
)

const module = "github.com/aws/karpenter-provider-aws"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: karpenter-crds OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "karpenter-crds:", err)
		os.Exit(1)
	}
}

func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if len(apis.CRDs) == 0 {
		return fmt.Errorf("%s/pkg/apis has no CRDs", module)
	}
	version := moduleVersion()
	for _, crd := range apis.CRDs {
		if crd == nil || crd.Spec.Group == "" || crd.Spec.Names.Plural == "" {
			return fmt.Errorf("apis.CRDs holds a CRD without group or plural name")
		}
		// Round trip through a map to drop what the API server fills in (status,
		// metadata.creationTimestamp); UseNumber keeps integers such as 9223372036854775807 exact.
		raw, err := json.Marshal(crd)
		if err != nil {
			return err
		}
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			return err
		}
		delete(obj, "status")
		if meta, ok := obj["metadata"].(map[string]any); ok {
			delete(meta, "creationTimestamp")
		}
		clean, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		body, err := yaml.JSONToYAML(clean)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s_%s.yaml", crd.Spec.Group, crd.Spec.Names.Plural)
		// A leading document separator, as controller-gen writes: `helm show crds` joins
		// the files of a chart's crds/ directory without one.
		header := fmt.Sprintf("---\n# %s@%s pkg/apis (apis.CRDs): %s\n", module, version, crd.Name)
		if err := os.WriteFile(filepath.Join(out, name), append([]byte(header), body...), 0o644); err != nil {
			return err
		}
		fmt.Println(name)
	}
	return nil
}
