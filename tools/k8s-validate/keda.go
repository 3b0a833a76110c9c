package main

// KEDA's ScaledObject is a CRD, so k8s.io/api has no type for it. These structs are a hand-written
// copy of the keda.sh/v1alpha1 ScaledObject spec (KEDA 2.x, the fields a chart can set; status is
// left out because a manifest never sets it). They are registered in the validator's scheme like
// any built-in type, so a ScaledObject is decoded with the same strict decoder: an unknown or
// misspelled field, or a wrong type (a number where KEDA wants a string), fails.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// KedaGroupVersion is the API group and version of the KEDA types the validator knows.
var KedaGroupVersion = schema.GroupVersion{Group: "keda.sh", Version: "v1alpha1"}

// ScaledObject is keda.sh/v1alpha1 ScaledObject.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ScaledObjectSpec `json:"spec"`
}

// ScaledObjectList is keda.sh/v1alpha1 ScaledObjectList.
type ScaledObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScaledObject `json:"items"`
}

type ScaledObjectSpec struct {
	ScaleTargetRef        *ScaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32          `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32          `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32          `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32          `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32          `json:"maxReplicaCount,omitempty"`
	Advanced              *AdvancedConfig `json:"advanced,omitempty"`
	Triggers              []ScaleTriggers `json:"triggers"`
	Fallback              *Fallback       `json:"fallback,omitempty"`
}

type ScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type AdvancedConfig struct {
	HorizontalPodAutoscalerConfig *HorizontalPodAutoscalerConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool                           `json:"restoreToOriginalReplicaCount,omitempty"`
	ScalingModifiers              *ScalingModifiers              `json:"scalingModifiers,omitempty"`
}

type HorizontalPodAutoscalerConfig struct {
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	Name     string                                         `json:"name,omitempty"`
}

type ScalingModifiers struct {
	Formula          string                         `json:"formula,omitempty"`
	Target           string                         `json:"target,omitempty"`
	ActivationTarget string                         `json:"activationTarget,omitempty"`
	MetricType       autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type ScaleTriggers struct {
	Type              string                         `json:"type"`
	Name              string                         `json:"name,omitempty"`
	UseCachedMetrics  bool                           `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string              `json:"metadata"`
	AuthenticationRef *AuthenticationRef             `json:"authenticationRef,omitempty"`
	MetricType        autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type AuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

type Fallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior,omitempty"`
}

// DeepCopyObject makes the KEDA types runtime.Objects (a JSON round trip: enough for a validator).
func (in *ScaledObject) DeepCopyObject() runtime.Object     { return jsonCopy(in, &ScaledObject{}) }
func (in *ScaledObjectList) DeepCopyObject() runtime.Object { return jsonCopy(in, &ScaledObjectList{}) }

func jsonCopy[T runtime.Object](in T, out T) runtime.Object {
	b, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

func addKedaTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(KedaGroupVersion, &ScaledObject{}, &ScaledObjectList{})
	metav1.AddToGroupVersion(s, KedaGroupVersion)
	return nil
}

// kafkaMetadata lists the metadata keys of KEDA's kafka scaler (KEDA 2.x docs); any other key is
// a typo KEDA would silently ignore, so the validator refuses it.
var kafkaMetadata = map[string]func(string) error{
	"bootstrapServers":                   nonEmpty,
	"bootstrapServersFromEnv":            nonEmpty,
	"consumerGroup":                      nonEmpty,
	"consumerGroupFromEnv":               nonEmpty,
	"topic":                              nonEmpty,
	"topicFromEnv":                       nonEmpty,
	"partitionLimitation":                nonEmpty,
	"lagThreshold":                       positiveInt,
	"activationLagThreshold":             nonNegativeInt,
	"offsetResetPolicy":                  oneOf("earliest", "latest"),
	"allowIdleConsumers":                 boolean,
	"scaleToZeroOnInvalidOffset":         boolean,
	"excludePersistentLag":               boolean,
	"limitToPartitionsWithLag":           boolean,
	"ensureEvenDistributionOfPartitions": boolean,
	"version":                            nonEmpty,
	"sasl":                               oneOf("none", "plaintext", "scram_sha256", "scram_sha512", "oauthbearer", "gssapi", "aws_msk_iam"),
	"tls":                                oneOf("enable", "disable"),
	"unsafeSsl":                          boolean,
	"awsRegion":                          nonEmpty,
}

// validateScaledObject checks what the types cannot say: a target, at least one trigger, replica
// bounds in order, and for kafka triggers known metadata keys with well-formed values.
func validateScaledObject(so *ScaledObject) []string {
	var errs []string
	s := so.Spec
	if s.ScaleTargetRef == nil || s.ScaleTargetRef.Name == "" {
		errs = append(errs, "spec.scaleTargetRef.name: required")
	}
	if len(s.Triggers) == 0 {
		errs = append(errs, "spec.triggers: at least one trigger is required")
	}
	if s.MinReplicaCount != nil && s.MaxReplicaCount != nil && *s.MinReplicaCount > *s.MaxReplicaCount {
		errs = append(errs, fmt.Sprintf("spec.minReplicaCount (%d) is greater than spec.maxReplicaCount (%d)", *s.MinReplicaCount, *s.MaxReplicaCount))
	}
	for _, p := range []struct {
		name string
		v    *int32
	}{{"pollingInterval", s.PollingInterval}, {"cooldownPeriod", s.CooldownPeriod}, {"minReplicaCount", s.MinReplicaCount}, {"maxReplicaCount", s.MaxReplicaCount}} {
		if p.v != nil && *p.v < 0 {
			errs = append(errs, fmt.Sprintf("spec.%s: must be >= 0, got %d", p.name, *p.v))
		}
	}
	for i, t := range s.Triggers {
		path := fmt.Sprintf("spec.triggers[%d]", i)
		if t.Type == "" {
			errs = append(errs, path+".type: required")
		}
		if t.Type != "kafka" {
			continue
		}
		keys := make([]string, 0, len(t.Metadata))
		for k := range t.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			check, known := kafkaMetadata[k]
			if !known {
				errs = append(errs, fmt.Sprintf("%s.metadata.%s: not a kafka scaler setting", path, k))
				continue
			}
			if err := check(t.Metadata[k]); err != nil {
				errs = append(errs, fmt.Sprintf("%s.metadata.%s: %v", path, k, err))
			}
		}
		if t.Metadata["bootstrapServers"] == "" && t.Metadata["bootstrapServersFromEnv"] == "" {
			errs = append(errs, path+".metadata.bootstrapServers: required")
		}
		for _, b := range strings.Split(t.Metadata["bootstrapServers"], ",") {
			if b != "" && !strings.Contains(b, ":") {
				errs = append(errs, fmt.Sprintf("%s.metadata.bootstrapServers: %q is not host:port", path, b))
			}
		}
		if t.Metadata["consumerGroup"] == "" && t.Metadata["consumerGroupFromEnv"] == "" {
			errs = append(errs, path+".metadata.consumerGroup: required")
		}
	}
	return errs
}

func nonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func positiveInt(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("expected a positive integer, got %q", v)
	}
	return nil
}

func nonNegativeInt(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("expected a non-negative integer, got %q", v)
	}
	return nil
}

func boolean(v string) error {
	if v != "true" && v != "false" {
		return fmt.Errorf("expected \"true\" or \"false\", got %q", v)
	}
	return nil
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("expected one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}
