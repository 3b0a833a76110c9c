// Command k8s-validate checks rendered Kubernetes manifests offline, strictly: every object of a
// multi-document YAML stream is decoded into its typed API struct (client-go's scheme for the
// built-in kinds, hand-written types for KEDA's ScaledObject), so an unknown or misspelled field, a
// wrong type or an unknown kind fails. It needs no cluster and no schema download.
//
//	helm template ... | k8s-validate            # standard input
//	k8s-validate rendered.yaml other.yaml       # files
//	k8s-validate -v rendered.yaml               # also print what was checked
//	k8s-validate -env-json env.json rendered.yaml  # also write each container's environment
//
// Exit status: 0 all valid, 1 a problem was found, 2 usage or I/O error.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("k8s-validate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	verbose := flags.Bool("v", false, "print the objects checked per kind")
	minObjects := flags.Int("min-objects", 1, "fail when fewer objects than this were found")
	envJSON := flags.String("env-json", "", "also write the containers' environment (secrets of the stream resolved) as JSON to this file")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	v, err := NewValidator()
	if err != nil {
		fmt.Fprintf(stderr, "k8s-validate: %v\n", err)
		return 2
	}
	var report Report
	sources := flags.Args()
	if len(sources) == 0 {
		sources = []string{"-"}
	}
	for _, src := range sources {
		var r io.Reader = stdin
		if src != "-" {
			f, err := os.Open(src)
			if err != nil {
				fmt.Fprintf(stderr, "k8s-validate: %v\n", err)
				return 2
			}
			defer f.Close()
			r = f
		}
		if err := v.Validate(r, src, &report); err != nil {
			fmt.Fprintf(stderr, "k8s-validate: %v\n", err)
			return 2
		}
	}
	for _, p := range report.Problems {
		fmt.Fprintln(stderr, p.String())
	}
	if report.Objects < *minObjects {
		fmt.Fprintf(stderr, "k8s-validate: %d objects found, expected at least %d\n", report.Objects, *minObjects)
		return 1
	}
	if *verbose {
		kinds := make([]string, 0, len(report.Kinds))
		for k, n := range report.Kinds {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(stdout, "k8s-validate: %d objects, %d problems (%s)\n", report.Objects, len(report.Problems), strings.Join(kinds, " "))
	}
	if *envJSON != "" {
		b, err := json.MarshalIndent(report.ContainerEnvs(), "", "  ")
		if err == nil {
			err = os.WriteFile(*envJSON, append(b, '\n'), 0o600)
		}
		if err != nil {
			fmt.Fprintf(stderr, "k8s-validate: %v\n", err)
			return 2
		}
	}
	if len(report.Problems) > 0 {
		fmt.Fprintf(stderr, "k8s-validate: %d problems in %d objects\n", len(report.Problems), report.Objects)
		return 1
	}
	return 0
}
