package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validateFile(t *testing.T, name string) Report {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r Report
	if err := v.Validate(f, name, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func messages(r Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestGoodManifestsPass(t *testing.T) {
	r := validateFile(t, "good.yaml")
	if len(r.Problems) != 0 {
		t.Fatalf("expected no problems, got:\n%s", messages(r))
	}
	if r.Objects != 4 {
		t.Fatalf("expected 4 objects (comment-only documents skipped), got %d", r.Objects)
	}
	if r.Kinds["keda.sh/v1alpha1/ScaledObject"] != 1 || r.Kinds["apps/v1/Deployment"] != 1 {
		t.Fatalf("kinds not recognised: %v", r.Kinds)
	}
}

func TestBrokenManifestsFail(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"broken-unknown-field.yaml", []string{`Deployment/mw-join-engine: strict decoding: unknown field "spec.template.spec.containers[0].livnessProbe"`}},
		{"broken-wrong-type.yaml", []string{"Deployment/mw-join-engine: wrong type:", "replicas"}},
		{"broken-semantics.yaml", []string{
			"selector does not match template labels",
			`spec.template.spec.containers[0].volumeMounts[0].name: Not found: "tmp"`,
			`spec.template.spec.containers[0].name: Invalid value: "JoinEngine"`,
			"must be less than or equal to the limit 512Mi",
		}},
		{"broken-keda.yaml", []string{
			"ScaledObject/mw-join-engine: spec.triggers[0].metadata.lagTreshold: not a kafka scaler setting",
			"spec.minReplicaCount (4) is greater than spec.maxReplicaCount (2)",
			`ScaledObject/mw-nt4: strict decoding: unknown field "spec.pollingIntervall"`,
		}},
		{"broken-unknown-kind.yaml", []string{
			`ConfigMapp/x: unknown kind "ConfigMapp" in apiVersion "v1"`,
			"Service/mw-api: the same object is already defined in document 2",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r := validateFile(t, c.file)
			got := messages(r)
			if len(r.Problems) == 0 {
				t.Fatalf("expected problems, got none")
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestKedaTriggerMetadataMustBeStrings(t *testing.T) {
	r := validateFile(t, "broken-keda.yaml")
	got := messages(r)
	if !strings.Contains(got, "ScaledObject/mw-exchange: wrong type:") || !strings.Contains(got, "metadata of type string") {
		t.Fatalf("a number in trigger metadata should fail decoding, got:\n%s", got)
	}
}

func TestCommandExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	good, _ := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if code := run([]string{"-v"}, bytes.NewReader(good), &out, &errOut); code != 0 {
		t.Fatalf("good stream: exit %d, stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "4 objects, 0 problems") {
		t.Fatalf("verbose summary missing: %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{filepath.Join("testdata", "broken-unknown-field.yaml")}, nil, &out, &errOut); code != 1 {
		t.Fatalf("broken file: exit %d, want 1", code)
	}
	if code := run(nil, strings.NewReader("# nothing but a comment\n"), &out, &errOut); code != 1 {
		t.Fatalf("empty stream: exit %d, want 1 (no object rendered is a failure)", code)
	}
	if code := run([]string{"testdata/does-not-exist.yaml"}, nil, &out, &errOut); code != 2 {
		t.Fatalf("missing file: exit %d, want 2", code)
	}
}

func TestContainerEnvResolvesChartSecrets(t *testing.T) {
	stream := `apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  db: cG9zdGdyZXM6Ly94
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc
spec:
  selector:
    matchLabels: {app: svc}
  template:
    metadata:
      labels: {app: svc}
    spec:
      containers:
        - name: join-engine
          image: x
          env:
            - name: MW_HTTP_PORT
              value: "8080"
            - name: MW_DATABASE_URL
              valueFrom:
                secretKeyRef: {name: creds, key: db}
            - name: MW_OTHER
              valueFrom:
                secretKeyRef: {name: existing, key: k}
`
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := v.Validate(strings.NewReader(stream), "-", &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems:\n%s", messages(r))
	}
	envs := r.ContainerEnvs()
	if len(envs) != 1 || envs[0].Deployment != "svc" || envs[0].Container != "join-engine" {
		t.Fatalf("expected one container env, got %+v", envs)
	}
	env := envs[0].Env
	if env["MW_HTTP_PORT"] != "8080" || env["MW_DATABASE_URL"] != "postgres://x" {
		t.Fatalf("env not resolved: %v", env)
	}
	if _, ok := env["MW_OTHER"]; ok || len(envs[0].FromExistingSecrets) != 1 || envs[0].FromExistingSecrets[0] != "MW_OTHER" {
		t.Fatalf("a Secret outside the stream cannot be resolved and is listed as such, got %+v", envs[0])
	}
}
