package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Problem is one reason a manifest would be refused.
type Problem struct {
	Source  string // file name, or "-" for standard input
	Doc     int    // 1-based index of the YAML document in the source
	Object  string // Kind/name, when known
	Message string
}

func (p Problem) String() string {
	where := fmt.Sprintf("%s#%d", p.Source, p.Doc)
	if p.Object != "" {
		where += " " + p.Object
	}
	return where + ": " + p.Message
}

// Report is what one run found.
type Report struct {
	Objects  int            // documents that held an object
	Kinds    map[string]int // objects per apiVersion/kind
	Problems []Problem
	// The valid Deployments and Secrets, for ContainerEnv.
	Deployments []*appsv1.Deployment
	Secrets     map[string]*corev1.Secret
}

// Validator decodes manifests strictly into the Kubernetes API types of client-go's scheme (plus
// the hand-written KEDA types) and applies the few checks the API server makes that a type cannot
// express (names, selectors matching pod labels, volume mounts naming a volume, ...).
type Validator struct {
	decoder runtime.Decoder
}

// NewValidator builds the scheme: every built-in group of k8s.io/api, and keda.sh/v1alpha1.
func NewValidator() (*Validator, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := addKedaTypes(s); err != nil {
		return nil, err
	}
	ser := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, s, s, kjson.SerializerOptions{Yaml: true, Strict: true})
	return &Validator{decoder: ser}, nil
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// Validate reads a multi-document YAML stream and checks every object in it.
func (v *Validator) Validate(r io.Reader, source string, report *Report) error {
	if report.Kinds == nil {
		report.Kinds = map[string]int{}
	}
	seen := map[string]int{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: reading YAML document %d: %w", source, doc, err)
		}
		problems := func(object string, msgs ...string) {
			for _, m := range msgs {
				report.Problems = append(report.Problems, Problem{Source: source, Doc: doc, Object: object, Message: m})
			}
		}
		asJSON, err := yaml.YAMLToJSON(raw)
		if err != nil {
			problems("", "not valid YAML: "+err.Error())
			continue
		}
		if t := bytes.TrimSpace(asJSON); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue // only comments (helm template writes "# Source: ..." documents)
		}
		var h header
		if err := yaml.Unmarshal(raw, &h); err != nil {
			problems("", "not a Kubernetes object (expected a mapping with apiVersion, kind, metadata): "+err.Error())
			continue
		}
		report.Objects++
		object := h.Kind + "/" + h.Metadata.Name
		if h.APIVersion == "" || h.Kind == "" {
			problems(object, "apiVersion and kind are required")
			continue
		}
		obj, _, err := v.decoder.Decode(raw, nil, nil)
		if err != nil {
			var strict interface{ Errors() []error }
			switch {
			case runtime.IsNotRegisteredError(err):
				problems(object, fmt.Sprintf("unknown kind %q in apiVersion %q: no API type to validate it against", h.Kind, h.APIVersion))
			case errors.As(err, &strict):
				for _, e := range strict.Errors() {
					problems(object, "strict decoding: "+e.Error())
				}
			case strings.Contains(err.Error(), "cannot unmarshal"):
				problems(object, "wrong type: "+err.Error())
			default:
				problems(object, "decoding: "+err.Error())
			}
			continue
		}
		report.Kinds[h.APIVersion+"/"+h.Kind]++
		id := h.APIVersion[:strings.LastIndex(h.APIVersion, "/")+1] + h.Kind + " " + h.Metadata.Namespace + "/" + h.Metadata.Name
		if first, dup := seen[id]; dup {
			problems(object, fmt.Sprintf("the same object is already defined in document %d", first))
		} else {
			seen[id] = doc
		}
		problems(object, checkObject(obj)...)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			report.Deployments = append(report.Deployments, o)
		case *corev1.Secret:
			if report.Secrets == nil {
				report.Secrets = map[string]*corev1.Secret{}
			}
			report.Secrets[o.Name] = o
		}
	}
}

// ContainerEnv is one container's environment as the process would see it: plain values, and
// secretKeyRef values resolved against the Secrets of the same stream. A reference to a Secret
// that is not in the stream (an existingSecret) is listed in FromExistingSecrets instead.
type ContainerEnv struct {
	Deployment          string            `json:"deployment"`
	Container           string            `json:"container"`
	Env                 map[string]string `json:"env"`
	FromExistingSecrets []string          `json:"fromExistingSecrets"`
}

// ContainerEnvs lists the environment of every container of every Deployment in the stream, so a
// test can feed a service's own configuration validation with what the chart renders.
func (r *Report) ContainerEnvs() []ContainerEnv {
	out := []ContainerEnv{}
	for _, d := range r.Deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			ce := ContainerEnv{Deployment: d.Name, Container: c.Name, Env: map[string]string{}, FromExistingSecrets: []string{}}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					ce.Env[e.Name] = e.Value
				case e.ValueFrom.SecretKeyRef != nil:
					ref := e.ValueFrom.SecretKeyRef
					s, ok := r.Secrets[ref.Name]
					if !ok {
						ce.FromExistingSecrets = append(ce.FromExistingSecrets, e.Name)
					} else if v, ok := s.Data[ref.Key]; ok {
						ce.Env[e.Name] = string(v)
					} else if v, ok := s.StringData[ref.Key]; ok {
						ce.Env[e.Name] = v
					}
				}
			}
			out = append(out, ce)
		}
	}
	return out
}

// checkObject applies the API server's checks that the types alone do not make.
func checkObject(obj runtime.Object) []string {
	var errs field.ErrorList
	if m, ok := obj.(metav1.Object); ok {
		errs = append(errs, checkMeta(obj, m)...)
	}
	spec := field.NewPath("spec")
	switch o := obj.(type) {
	case *appsv1.Deployment:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels, spec)...)
		errs = append(errs, checkPodSpec(&o.Spec.Template.Spec, spec.Child("template", "spec"))...)
		if o.Spec.Replicas != nil && *o.Spec.Replicas < 0 {
			errs = append(errs, field.Invalid(spec.Child("replicas"), *o.Spec.Replicas, "must be >= 0"))
		}
	case *appsv1.StatefulSet:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels, spec)...)
		errs = append(errs, checkPodSpec(&o.Spec.Template.Spec, spec.Child("template", "spec"))...)
	case *appsv1.DaemonSet:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels, spec)...)
		errs = append(errs, checkPodSpec(&o.Spec.Template.Spec, spec.Child("template", "spec"))...)
	case *batchv1.Job:
		errs = append(errs, checkJobPod(&o.Spec.Template.Spec, spec.Child("template", "spec"))...)
	case *batchv1.CronJob:
		if len(o.Name) > 52 {
			errs = append(errs, field.TooLong(field.NewPath("metadata", "name"), o.Name, 52))
		}
		if strings.TrimSpace(o.Spec.Schedule) == "" {
			errs = append(errs, field.Required(spec.Child("schedule"), ""))
		}
		errs = append(errs, checkJobPod(&o.Spec.JobTemplate.Spec.Template.Spec, spec.Child("jobTemplate", "spec", "template", "spec"))...)
	case *corev1.Pod:
		errs = append(errs, checkPodSpec(&o.Spec, spec)...)
	case *corev1.Service:
		for i, p := range o.Spec.Ports {
			pp := spec.Child("ports").Index(i)
			errs = append(errs, checkPortNumber(p.Port, pp.Child("port"))...)
			errs = append(errs, checkProtocol(p.Protocol, pp.Child("protocol"))...)
			if p.TargetPort.Type == intstr.String {
				for _, m := range validation.IsValidPortName(p.TargetPort.StrVal) {
					errs = append(errs, field.Invalid(pp.Child("targetPort"), p.TargetPort.StrVal, m))
				}
			}
		}
	case *corev1.ConfigMap:
		for k := range o.Data {
			for _, m := range validation.IsConfigMapKey(k) {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, m))
			}
		}
	case *corev1.Secret:
		for k := range o.Data {
			for _, m := range validation.IsConfigMapKey(k) {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, m))
			}
		}
		for k := range o.StringData {
			for _, m := range validation.IsConfigMapKey(k) {
				errs = append(errs, field.Invalid(field.NewPath("stringData").Key(k), k, m))
			}
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		if o.Spec.ScaleTargetRef.Name == "" || o.Spec.ScaleTargetRef.Kind == "" {
			errs = append(errs, field.Required(spec.Child("scaleTargetRef"), "kind and name"))
		}
		if o.Spec.MaxReplicas < 1 {
			errs = append(errs, field.Invalid(spec.Child("maxReplicas"), o.Spec.MaxReplicas, "must be >= 1"))
		}
		if o.Spec.MinReplicas != nil && *o.Spec.MinReplicas > o.Spec.MaxReplicas {
			errs = append(errs, field.Invalid(spec.Child("minReplicas"), *o.Spec.MinReplicas, "must be <= maxReplicas"))
		}
	case *policyv1.PodDisruptionBudget:
		if o.Spec.MinAvailable != nil && o.Spec.MaxUnavailable != nil {
			errs = append(errs, field.Invalid(spec, "", "minAvailable and maxUnavailable cannot both be set"))
		}
	case *networkingv1.NetworkPolicy:
		for i, t := range o.Spec.PolicyTypes {
			if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
				errs = append(errs, field.NotSupported(spec.Child("policyTypes").Index(i), t, []string{"Ingress", "Egress"}))
			}
		}
		for i, r := range o.Spec.Ingress {
			errs = append(errs, checkPolicyPorts(r.Ports, spec.Child("ingress").Index(i).Child("ports"))...)
		}
		for i, r := range o.Spec.Egress {
			errs = append(errs, checkPolicyPorts(r.Ports, spec.Child("egress").Index(i).Child("ports"))...)
		}
	case *ScaledObject:
		out := make([]string, 0, len(errs))
		for _, e := range errs {
			out = append(out, e.Error())
		}
		return append(out, validateScaledObject(o)...)
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func checkMeta(obj runtime.Object, m metav1.Object) field.ErrorList {
	nameFn := apivalidation.NameIsDNSSubdomain
	switch obj.(type) {
	case *corev1.Service, *corev1.Namespace:
		nameFn = apivalidation.NameIsDNSLabel
	}
	meta := metav1.ObjectMeta{
		Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
		Labels: m.GetLabels(), Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(),
		Finalizers: m.GetFinalizers(),
	}
	// helm template leaves the namespace to the client: present or not, both are fine here.
	return apivalidation.ValidateObjectMeta(&meta, meta.Namespace != "", nameFn, field.NewPath("metadata"))
}

func checkSelector(sel *metav1.LabelSelector, podLabels map[string]string, spec *field.Path) field.ErrorList {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return field.ErrorList{field.Required(spec.Child("selector"), "a non-empty selector")}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(spec.Child("selector"), sel, err.Error())}
	}
	if !s.Matches(labels.Set(podLabels)) {
		return field.ErrorList{field.Invalid(spec.Child("template", "metadata", "labels"), podLabels, "selector does not match template labels")}
	}
	return nil
}

func checkJobPod(p *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := checkPodSpec(p, path)
	if p.RestartPolicy != corev1.RestartPolicyNever && p.RestartPolicy != corev1.RestartPolicyOnFailure {
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), p.RestartPolicy, []string{"Never", "OnFailure"}))
	}
	return errs
}

func checkPodSpec(p *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(p.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "at least one container"))
	}
	volumes := map[string]bool{}
	for i, vol := range p.Volumes {
		vp := path.Child("volumes").Index(i).Child("name")
		for _, m := range validation.IsDNS1123Label(vol.Name) {
			errs = append(errs, field.Invalid(vp, vol.Name, m))
		}
		if volumes[vol.Name] {
			errs = append(errs, field.Duplicate(vp, vol.Name))
		}
		volumes[vol.Name] = true
	}
	names := map[string]bool{}
	check := func(c *corev1.Container, cp *field.Path) {
		for _, m := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(cp.Child("name"), c.Name, m))
		}
		if names[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			errs = append(errs, field.Required(cp.Child("image"), ""))
		}
		ports := map[string]bool{}
		for j, port := range c.Ports {
			pp := cp.Child("ports").Index(j)
			errs = append(errs, checkPortNumber(port.ContainerPort, pp.Child("containerPort"))...)
			errs = append(errs, checkProtocol(port.Protocol, pp.Child("protocol"))...)
			if port.Name != "" {
				for _, m := range validation.IsValidPortName(port.Name) {
					errs = append(errs, field.Invalid(pp.Child("name"), port.Name, m))
				}
				ports[port.Name] = true
			}
		}
		for _, pr := range []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
			if pr.probe == nil || pr.probe.HTTPGet == nil {
				continue
			}
			port := pr.probe.HTTPGet.Port
			if port.Type == intstr.String && !ports[port.StrVal] {
				errs = append(errs, field.Invalid(cp.Child(pr.name, "httpGet", "port"), port.StrVal, "names no port of this container"))
			}
			if port.Type == intstr.Int {
				errs = append(errs, checkPortNumber(port.IntVal, cp.Child(pr.name, "httpGet", "port"))...)
			}
		}
		envs := map[string]bool{}
		for j, e := range c.Env {
			ep := cp.Child("env").Index(j)
			for _, m := range validation.IsEnvVarName(e.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), e.Name, m))
			}
			if envs[e.Name] {
				errs = append(errs, field.Duplicate(ep.Child("name"), e.Name))
			}
			envs[e.Name] = true
			if e.Value != "" && e.ValueFrom != nil {
				errs = append(errs, field.Invalid(ep, e.Name, "value and valueFrom cannot both be set"))
			}
		}
		for j, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				errs = append(errs, field.NotFound(cp.Child("volumeMounts").Index(j).Child("name"), m.Name))
			}
			if !strings.HasPrefix(m.MountPath, "/") {
				errs = append(errs, field.Invalid(cp.Child("volumeMounts").Index(j).Child("mountPath"), m.MountPath, "must be an absolute path"))
			}
		}
		for res, limit := range c.Resources.Limits {
			if req, ok := c.Resources.Requests[res]; ok && req.Cmp(limit) > 0 {
				errs = append(errs, field.Invalid(cp.Child("resources", "requests").Key(string(res)), req.String(), "must be less than or equal to the limit "+limit.String()))
			}
		}
	}
	for i := range p.InitContainers {
		check(&p.InitContainers[i], path.Child("initContainers").Index(i))
	}
	for i := range p.Containers {
		check(&p.Containers[i], path.Child("containers").Index(i))
	}
	return errs
}

func checkPortNumber(n int32, path *field.Path) field.ErrorList {
	if n < 1 || n > 65535 {
		return field.ErrorList{field.Invalid(path, n, "must be between 1 and 65535")}
	}
	return nil
}

func checkProtocol(p corev1.Protocol, path *field.Path) field.ErrorList {
	switch p {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	}
	return field.ErrorList{field.NotSupported(path, p, []string{"TCP", "UDP", "SCTP"})}
}

func checkPolicyPorts(ports []networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		if p.Protocol != nil {
			errs = append(errs, checkProtocol(*p.Protocol, path.Index(i).Child("protocol"))...)
		}
		if p.Port != nil && p.Port.Type == intstr.Int {
			errs = append(errs, checkPortNumber(p.Port.IntVal, path.Index(i).Child("port"))...)
		}
	}
	return errs
}
