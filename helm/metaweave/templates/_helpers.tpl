{{/*
Names, labels, images and the pieces every workload shares. Every service is addressed by its
values key (exchangeConnector, ...) and its name (exchange-connector, ...), the name the service
uses for itself (consumer group suffix, database schema default, dist/apps/<name>).
*/}}

{{/* The five services: values key -> service name. */}}
{{- define "metaweave.services" -}}
exchangeConnector: exchange-connector
nt4Connector: nt4-connector
joinEngine: join-engine
passwordService: password-service
projectionService: projection-service
{{- end -}}

{{- define "metaweave.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "metaweave.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>, at most 63 characters. Usage: include "metaweave.componentName" (dict "root" $ "name" "join-engine") */}}
{{- define "metaweave.componentName" -}}
{{- printf "%s-%s" (include "metaweave.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "metaweave.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every resource. Usage: include "metaweave.labels" (dict "root" $ "component" "join-engine") */}}
{{- define "metaweave.labels" -}}
helm.sh/chart: {{ include "metaweave.chart" .root }}
{{ include "metaweave.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: metaweave
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The labels a selector matches (stable across upgrades). */}}
{{- define "metaweave.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metaweave.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- if .domain }}
metaweave.io/nt4-domain: {{ .domain }}
{{- end }}
{{- end -}}

{{/* metadata: name, namespace, labels, annotations (+ commonAnnotations).
Usage: include "metaweave.metadata" (dict "root" $ "name" $resourceName "component" "join-engine" "annotations" $map "labels" $map) */}}
{{- define "metaweave.metadata" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace | quote }}
labels:
  {{- include "metaweave.labels" . | nindent 2 }}
  {{- with .labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- $all := merge (deepCopy (default dict .annotations)) (default dict .root.Values.commonAnnotations) }}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The workloads: one per enabled service, except the NT4 connector, which has one per domain (the
service reads one domain from its environment: MW_NT4_DOMAIN). Each item: key (values key),
service (name), resource (Deployment/Service/... name), domainLabel (NT4 only), domain (the
nt4Connector.domains item), connector (connector name), replicaCount.
Usage: include "metaweave.workloads" . | fromYamlArray
*/}}
{{- define "metaweave.workloads" -}}
{{- $out := list }}
{{- range $key, $name := (include "metaweave.services" . | fromYaml) }}
{{- $svc := index $.Values $key }}
{{- if $svc.enabled }}
{{- if eq $name "nt4-connector" }}
{{- range $svc.domains }}
{{- $slug := lower .name | replace "_" "-" | replace "." "-" | trimSuffix "-" }}
{{- $replicas := $svc.replicaCount }}
{{- if hasKey . "replicaCount" }}{{ $replicas = .replicaCount }}{{ end }}
{{- $out = append $out (dict "key" $key "service" $name "resource" (printf "%s-nt4-%s" (include "metaweave.fullname" $ | trunc 46 | trimSuffix "-") $slug) "domainLabel" $slug "domain" . "connector" (default (printf "nt4-%s" (lower .name)) .connectorName) "replicaCount" $replicas) }}
{{- end }}
{{- else }}
{{- $out = append $out (dict "key" $key "service" $name "resource" (include "metaweave.componentName" (dict "root" $ "name" $name)) "connector" (default "" $svc.connectorName) "replicaCount" $svc.replicaCount) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end -}}

{{/* The label a pod carries to be let in by the API services' NetworkPolicies. */}}
{{- define "metaweave.clientLabel" -}}
{{ include "metaweave.fullname" . }}-client
{{- end -}}

{{/* registry/repository:tag@digest. Usage: include "metaweave.image" (dict "root" $ "image" $svc.image) */}}
{{- define "metaweave.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $ref := .image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (toString (default .root.Chart.AppVersion .image.tag)) -}}
{{- end -}}
{{- end -}}

{{- define "metaweave.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "metaweave.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "metaweave.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod and container security contexts without the chart's own "enabled" switch. */}}
{{- define "metaweave.podSecurityContext" -}}
{{- if .Values.podSecurityContext.enabled -}}
securityContext:
  {{- omit .Values.podSecurityContext "enabled" | toYaml | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "metaweave.containerSecurityContext" -}}
{{- if .Values.containerSecurityContext.enabled -}}
securityContext:
  {{- omit .Values.containerSecurityContext "enabled" | toYaml | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The chart's own Secret (credentials given as values, when no existingSecret names one). */}}
{{- define "metaweave.secretName" -}}
{{ include "metaweave.fullname" . }}
{{- end -}}

{{/* Secret and key of a service's database URL. Usage: include "metaweave.databaseSecret" (dict "root" $ "svc" $svc "name" $name) | fromYaml */}}
{{- define "metaweave.databaseSecret" -}}
{{- $existing := default .root.Values.database.existingSecret .svc.database.existingSecret -}}
name: {{ default (include "metaweave.secretName" .root) $existing | quote }}
key: {{ default (printf "%s-database-url" .name) .svc.database.existingSecretKey | quote }}
fromChart: {{ not $existing }}
{{- end -}}

{{/* Secret and key of the Exchange connector's LDAP bind password. */}}
{{- define "metaweave.ldapSecret" -}}
{{- $ldap := .Values.exchangeConnector.ldap -}}
name: {{ default (include "metaweave.secretName" .) $ldap.existingSecret | quote }}
key: {{ default "ldap-bind-password" $ldap.existingSecretPasswordKey | quote }}
fromChart: {{ not $ldap.existingSecret }}
{{- end -}}

{{/* Secret and key of an NT4 domain's administrator password. Usage: (dict "root" $ "domain" $d) */}}
{{- define "metaweave.nt4DomainSecret" -}}
{{- if .domain.existingSecret -}}
name: {{ .domain.existingSecret | quote }}
key: {{ default "password" .domain.existingSecretPasswordKey | quote }}
fromChart: false
{{- else -}}
name: {{ include "metaweave.secretName" .root | quote }}
key: {{ printf "nt4-domain-%s-password" (lower .domain.name) | quote }}
fromChart: true
{{- end -}}
{{- end -}}

{{/* The token verification settings of the API services: the global auth section, with the older
projectionService.auth values winning where set (backward compatibility). */}}
{{- define "metaweave.auth" -}}
{{- $g := .Values.auth -}}
{{- $p := default dict .Values.projectionService.auth -}}
publicKeys: {{ default $g.publicKeys $p.publicKeys | quote }}
existingSecret: {{ default $g.existingSecret $p.existingSecret | quote }}
existingSecretKey: {{ default $g.existingSecretKey $p.existingSecretKey | quote }}
issuer: {{ default $g.issuer $p.issuer | quote }}
audience: {{ default $g.audience $p.audience | quote }}
{{- end -}}

{{/* Secret and key of an NT4 domain's password key pairs (JSON [{kid, privateKeyPem}]): the
domain's passwordKeys, else nt4Connector.passwordKeys; name empty when neither names a Secret.
Usage: include "metaweave.nt4PasswordKeys" (dict "svc" $svc "domain" $d) | fromYaml */}}
{{- define "metaweave.nt4PasswordKeys" -}}
{{- $shared := .svc.passwordKeys -}}
{{- $own := default dict .domain.passwordKeys -}}
{{- if $own.existingSecret -}}
name: {{ $own.existingSecret | quote }}
key: {{ default "password-keys.json" $own.existingSecretKey | quote }}
{{- else if $shared.existingSecret -}}
name: {{ $shared.existingSecret | quote }}
key: {{ default "password-keys.json" $shared.existingSecretKey | quote }}
{{- else -}}
name: ""
{{- end -}}
{{- end -}}

{{/* http(s)://<service resource>.<namespace>.svc:<service port> of a workload's Service.
Usage: include "metaweave.serviceUrl" (dict "root" $ "resource" $name "svc" $svc "scheme" "http") */}}
{{- define "metaweave.serviceUrl" -}}
{{- printf "%s://%s.%s.svc:%v" (default "http" .scheme) .resource .root.Release.Namespace .svc.service.port -}}
{{- end -}}

{{/* MW_CONNECTOR_URLS of the projection service: <connector>=<URL of its Service>, the Exchange
connector and each NT4 domain's connector. */}}
{{- define "metaweave.connectorUrls" -}}
{{- $out := list -}}
{{- range $w := (include "metaweave.workloads" . | fromYamlArray) -}}
{{- if $w.connector -}}
{{- $svc := index $.Values $w.key -}}
{{- $out = append $out (printf "%s=%s" $w.connector (include "metaweave.serviceUrl" (dict "root" $ "resource" $w.resource "svc" $svc))) -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* MW_PASSWORD_CONNECTORS of the password service: one entry per NT4 domain that has a
passwordPublicKey, as JSON [{connector, domain, kid, publicKeyPem}]. */}}
{{- define "metaweave.passwordConnectors" -}}
{{- $out := list -}}
{{- if .Values.nt4Connector.enabled -}}
{{- range $w := (include "metaweave.workloads" . | fromYamlArray) -}}
{{- if and $w.domain $w.domain.passwordPublicKey -}}
{{- $k := $w.domain.passwordPublicKey -}}
{{- $out = append $out (dict "connector" $w.connector "domain" $w.domain.name "kid" $k.kid "publicKeyPem" $k.publicKeyPem) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Where the console forwards to: the given URL (egress then to any address on its port), else
the chart's own service (egress to its pods on their container port); url empty when neither.
Usage: include "metaweave.consoleUpstream" (dict "root" $ "key" "passwordService" "name" "password-service" "url" $c.passwordUrl) | fromYaml */}}
{{- define "metaweave.consoleUpstream" -}}
{{- $svc := index .root.Values .key -}}
{{- if .url -}}
url: {{ .url | quote }}
port: {{ include "metaweave.urlPort" (dict "url" .url "default" (ternary 443 80 (hasPrefix "https:" .url))) }}
to: []
{{- else if $svc.enabled -}}
{{- $tls := and (eq .key "passwordService") $svc.tls.existingSecret -}}
url: {{ include "metaweave.serviceUrl" (dict "root" .root "resource" (include "metaweave.componentName" (dict "root" .root "name" .name)) "svc" $svc "scheme" (ternary "https" "http" (not (empty $tls)))) | quote }}
port: {{ $svc.containerPort }}
to:
  - podSelector:
      matchLabels:
        {{- include "metaweave.selectorLabels" (dict "root" .root "component" .name) | nindent 8 }}
{{- else -}}
url: ""
{{- end -}}
{{- end -}}

{{/* True when a service is scaled by an HPA or KEDA (the Deployment then leaves replicas alone). */}}
{{- define "metaweave.autoscaled" -}}
{{- $a := .svc.autoscaling -}}
{{- if or $a.hpa.enabled (and (hasKey $a "keda") $a.keda.enabled) }}true{{ end -}}
{{- end -}}

{{/* The ports of host:port addresses, unique and sorted. Usage: include "metaweave.portsOf" $list | fromYamlArray */}}
{{- define "metaweave.portsOf" -}}
{{- $ports := list -}}
{{- range . -}}
{{- $p := last (splitList ":" .) -}}
{{- $ports = append $ports (int $p) -}}
{{- end -}}
{{- toYaml (uniq $ports | sortAlpha) -}}
{{- end -}}

{{/* host:port of a URL, with the scheme's default port. Usage: include "metaweave.urlPort" (dict "url" $u "default" 4318) */}}
{{- define "metaweave.urlPort" -}}
{{- $host := (urlParse .url).host -}}
{{- if contains ":" $host -}}
{{- last (splitList ":" $host) -}}
{{- else -}}
{{- .default -}}
{{- end -}}
{{- end -}}

{{/*
The consumer group whose lag scales a workload: autoscaling.keda.consumerGroup, else the one the
service uses for the topic: <topicPrefix><service> (libs/platform config.ts) for the join engine,
<topicPrefix><service>-<connector>-exports for a connector's export commands (as the Exchange
connector's ExportApplier). Usage: include "metaweave.kedaConsumerGroup" (dict "root" $ "w" $workload "svc" $svc)
*/}}
{{- define "metaweave.kedaConsumerGroup" -}}
{{- $base := printf "%s%s" .root.Values.kafka.topicPrefix .w.service -}}
{{- if .svc.autoscaling.keda.consumerGroup -}}
{{- .svc.autoscaling.keda.consumerGroup -}}
{{- else if .w.connector -}}
{{- printf "%s-%s-exports" $base .w.connector -}}
{{- else -}}
{{- $base -}}
{{- end -}}
{{- end -}}

{{/*
Cross-field checks the JSON schema cannot express; a failure stops rendering with a message that
names the value to set.
*/}}
{{- define "metaweave.validate" -}}
{{- $services := include "metaweave.services" . | fromYaml -}}
{{- range $key, $name := $services }}
{{- $svc := index $.Values $key }}
{{- if $svc.enabled }}
{{- $db := include "metaweave.databaseSecret" (dict "root" $ "svc" $svc "name" $name) | fromYaml }}
{{- if and $db.fromChart (not $svc.database.url) }}
{{- fail (printf "%s.database.url is required (or set %s.database.existingSecret or database.existingSecret to a Secret with the key %s)" $key $key $db.key) }}
{{- end }}
{{- if and $svc.autoscaling.hpa.enabled (hasKey $svc.autoscaling "keda") $svc.autoscaling.keda.enabled }}
{{- fail (printf "%s: autoscaling.hpa.enabled and autoscaling.keda.enabled are exclusive (KEDA manages its own HPA)" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq .Values.telemetry.exporter "otlp") (not .Values.telemetry.endpoint) }}
{{- fail "telemetry.endpoint is required when telemetry.exporter is otlp (or set telemetry.exporter: none)" }}
{{- end }}
{{- $p := .Values.projectionService }}
{{- $auth := include "metaweave.auth" . | fromYaml }}
{{- if and $p.enabled (not $auth.existingSecret) (not $auth.publicKeys) }}
{{- fail "auth.publicKeys is required: the PEM public key(s) of your token issuer, used by the projection and password services (or set auth.existingSecret)" }}
{{- end }}
{{- $x := .Values.exchangeConnector }}
{{- if $x.enabled }}
{{- if and (not $x.ldap.existingSecret) (not $x.ldap.bindPassword) }}
{{- fail "exchangeConnector.ldap.bindPassword is required (or set exchangeConnector.ldap.existingSecret)" }}
{{- end }}
{{- $miis := or $x.ldap.account $x.ldap.logonDomain }}
{{- if and $x.ldap.bindDn $miis }}
{{- fail "exchangeConnector.ldap: set either bindDn or account + logonDomain, not both" }}
{{- end }}
{{- if and (not $x.ldap.bindDn) (not (and $x.ldap.account $x.ldap.logonDomain)) }}
{{- fail "exchangeConnector.ldap.bindDn is required (or account + logonDomain, the MIIS form: the account and its NT logon domain)" }}
{{- end }}
{{- if and $x.ldap.startTls (hasPrefix "ldaps:" $x.ldap.url) }}
{{- fail "exchangeConnector.ldap.startTls is for ldap:// URLs; an ldaps:// URL is TLS already" }}
{{- end }}
{{- range $site, $_ := $x.containers }}
{{- if not (has $site $x.sites) }}
{{- fail (printf "exchangeConnector.containers: unknown site %q (not one of exchangeConnector.sites %v)" $site $x.sites) }}
{{- end }}
{{- end }}
{{- range $name, $profile := $x.runProfiles }}
{{- if and (hasKey $profile "intervalMs") (hasKey $profile "cron") }}
{{- fail (printf "exchangeConnector.runProfiles.%s: give intervalMs or cron, not both" $name) }}
{{- end }}
{{- range $profile.partitions }}
{{- if not (has . $x.sites) }}
{{- fail (printf "exchangeConnector.runProfiles.%s.partitions: %q is not one of exchangeConnector.sites %v" $name . $x.sites) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.nt4Connector.domains }}
{{- if and .passwordPublicKey (not (include "metaweave.nt4PasswordKeys" (dict "svc" $.Values.nt4Connector "domain" .) | fromYaml).name) }}
{{- fail (printf "nt4Connector.domains[%s].passwordPublicKey is set but the domain has no password keys: set nt4Connector.passwordKeys.existingSecret or the domain's passwordKeys.existingSecret (the password service would seal commands the connector cannot open)" .name) }}
{{- end }}
{{- end }}
{{- $c := .Values.console }}
{{- if and $c.enabled (not .Values.projectionService.enabled) (not $c.projectionUrl) }}
{{- fail "console.projectionUrl is required when projectionService is disabled (the console forwards to the query API)" }}
{{- end }}
{{- range .Values.runProfiles.schedules }}
{{- if not $x.enabled }}
{{- fail (printf "runProfiles.schedules[%s]: the run profiles call the Exchange connector, which is disabled" .name) }}
{{- end }}
{{- if not (has .partition $x.sites) }}
{{- fail (printf "runProfiles.schedules[%s].partition %q is not one of exchangeConnector.sites %v" .name .partition $x.sites) }}
{{- end }}
{{- end }}
{{- $names := list }}
{{- range .Values.runProfiles.schedules }}
{{- if has .name $names }}
{{- fail (printf "runProfiles.schedules: the name %q is used twice" .name) }}
{{- end }}
{{- $names = append $names .name }}
{{- end }}
{{- $domains := list }}
{{- range .Values.nt4Connector.domains }}
{{- $slug := lower .name | replace "_" "-" | replace "." "-" | trimSuffix "-" }}
{{- if has $slug $domains }}
{{- fail (printf "nt4Connector.domains: the domain %q is listed twice (names are compared lower-case, with _ and . as -)" .name) }}
{{- end }}
{{- $domains = append $domains $slug }}
{{- end }}
{{- end -}}

{{/* The environment of a service, as libs/platform and apps/<service>/src/config.ts read it.
Usage: include "metaweave.env" (dict "root" $ "name" $name "svc" $svc "db" $dbSecretRef "ldap" $ldapSecretRef
"domain" $nt4Domain "domainSecret" $nt4DomainSecretRef ["hook" true])
With "hook" (the migrations Job, which mounts nothing but /tmp) the settings naming files mounted
in the Deployments are left out: the rules file, NT4 password keys, TLS files, the LDAP CA. */}}
{{- define "metaweave.env" -}}
- name: MW_KAFKA_BROKERS
  value: {{ join "," .root.Values.kafka.brokers | quote }}
- name: MW_TOPIC_PREFIX
  value: {{ .root.Values.kafka.topicPrefix | quote }}
- name: MW_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .db.name | quote }}
      key: {{ .db.key | quote }}
- name: MW_DATABASE_SCHEMA
  value: {{ .svc.database.schema | quote }}
- name: MW_HTTP_PORT
  value: {{ .svc.containerPort | quote }}
- name: MW_HTTP_HOST
  value: "0.0.0.0"
- name: MW_OTEL_EXPORTER
  value: {{ .root.Values.telemetry.exporter | quote }}
{{- if eq .root.Values.telemetry.exporter "otlp" }}
- name: MW_OTEL_ENDPOINT
  value: {{ .root.Values.telemetry.endpoint | quote }}
{{- end }}
- name: MW_OTEL_SAMPLE_RATIO
  value: {{ .root.Values.telemetry.sampleRatio | quote }}
- name: MW_METRICS_PORT
  value: {{ ternary .root.Values.metrics.port 0 .root.Values.metrics.enabled | quote }}
- name: MW_LOG_LEVEL
  value: {{ default .root.Values.logLevel .svc.logLevel | quote }}
{{- if and (eq .name "join-engine") (or .svc.syncRules.rules .svc.syncRules.existingConfigMap) (not .hook) }}
- name: MW_RULES_FILE
  value: /etc/metaweave/config/sync-rules.yaml
{{- end }}
{{- if eq .name "exchange-connector" }}
- name: MW_CONNECTOR_NAME
  value: {{ .svc.connectorName | quote }}
- name: MW_LDAP_URL
  value: {{ required "exchangeConnector.ldap.url is required (ldap://host:port)" .svc.ldap.url | quote }}
{{- if .svc.ldap.bindDn }}
- name: MW_LDAP_BIND_DN
  value: {{ .svc.ldap.bindDn | quote }}
{{- else }}
- name: MW_EXCHANGE_ACCOUNT
  value: {{ .svc.ldap.account | quote }}
- name: MW_EXCHANGE_LOGON_DOMAIN
  value: {{ .svc.ldap.logonDomain | quote }}
{{- end }}
- name: MW_LDAP_STARTTLS
  value: {{ ternary "true" "false" .svc.ldap.startTls | quote }}
- name: MW_LDAP_TLS_REJECT_UNAUTHORIZED
  value: {{ ternary "true" "false" .svc.ldap.tlsRejectUnauthorized | quote }}
{{- if and .svc.ldap.caSecret (not .hook) }}
- name: MW_LDAP_TLS_CA_FILE
  value: /etc/metaweave/ldap-ca/ca.crt
{{- end }}
- name: MW_LDAP_BIND_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .ldap.name | quote }}
      key: {{ .ldap.key | quote }}
- name: MW_LDAP_BASE_DN
  value: {{ required "exchangeConnector.ldap.baseDn is required (o=Organisation)" .svc.ldap.baseDn | quote }}
- name: MW_EXCHANGE_SITES
  value: {{ join "," .svc.sites | quote }}
- name: MW_EXCHANGE_DELTA_INTERVAL_MS
  value: {{ .svc.deltaIntervalMs | quote }}
- name: MW_EXCHANGE_DELTA_STRATEGY
  value: {{ .svc.deltaStrategy | quote }}
- name: MW_EXCHANGE_TOMBSTONE_LIFETIME_DAYS
  value: {{ .svc.tombstoneLifetimeDays | quote }}
{{- with .svc.containers }}
- name: MW_EXCHANGE_CONTAINERS
  value: {{ toJson . | quote }}
{{- end }}
{{- with .svc.runProfiles }}
- name: MW_EXCHANGE_RUN_PROFILES
  value: {{ toJson . | quote }}
{{- end }}
{{- end }}
{{- if eq .name "nt4-connector" }}
{{- $d := .domain }}
- name: MW_NT4_DOMAIN
  value: {{ $d.name | quote }}
- name: MW_NT4_HOST
  value: {{ $d.host | quote }}
- name: MW_NT4_PORT
  value: {{ default 445 $d.port | quote }}
- name: MW_NT4_ADMIN_USER
  value: {{ $d.username | quote }}
- name: MW_NT4_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .domainSecret.name | quote }}
      key: {{ .domainSecret.key | quote }}
- name: MW_NT4_SMB1
  value: {{ ternary "true" "false" (default false $d.smb1) | quote }}
- name: MW_NT4_IMPORT_INTERVAL_MS
  value: {{ (hasKey $d "importIntervalMs" | ternary $d.importIntervalMs .svc.importIntervalMs) | quote }}
{{- with $d.connectorName }}
- name: MW_CONNECTOR_NAME
  value: {{ . | quote }}
{{- end }}
- name: MW_NT4_LEASE_WAIT_MS
  value: {{ .svc.leaseWaitMs | quote }}
{{- if and (include "metaweave.nt4PasswordKeys" (dict "svc" .svc "domain" $d) | fromYaml).name (not .hook) }}
- name: MW_NT4_PASSWORD_KEYS_FILE
  value: /etc/metaweave/password-keys/password-keys.json
{{- end }}
{{- end }}
{{- if eq .name "join-engine" }}
{{- with .svc.rulesExtensions }}
- name: MW_RULES_EXTENSIONS
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq .name "password-service" }}
- name: MW_PASSWORD_CONNECTORS
  value: {{ include "metaweave.passwordConnectors" .root | quote }}
- name: MW_PASSWORD_COMMAND_TTL_SECONDS
  value: {{ .svc.commandTtlSeconds | quote }}
- name: MW_PASSWORD_OUTCOME_GRACE_SECONDS
  value: {{ .svc.outcomeGraceSeconds | quote }}
{{- if and .svc.tls.existingSecret (not .hook) }}
- name: MW_TLS_CERT_FILE
  value: /etc/metaweave/tls/tls.crt
- name: MW_TLS_KEY_FILE
  value: /etc/metaweave/tls/tls.key
{{- end }}
{{- end }}
{{- if eq .name "projection-service" }}
- name: MW_PROJECTION_BATCH_SIZE
  value: {{ .svc.batchSize | quote }}
- name: MW_CONNECTOR_URLS
  value: {{ include "metaweave.connectorUrls" .root | quote }}
{{- if .root.Values.joinEngine.enabled }}
- name: MW_JOIN_ENGINE_URL
  value: {{ include "metaweave.serviceUrl" (dict "root" .root "resource" (include "metaweave.componentName" (dict "root" .root "name" "join-engine")) "svc" .root.Values.joinEngine) | quote }}
{{- end }}
{{- end }}
{{- if or (eq .name "projection-service") (eq .name "password-service") }}
{{- $auth := include "metaweave.auth" .root | fromYaml }}
{{- if $auth.existingSecret }}
- name: MW_AUTH_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret | quote }}
      key: {{ default "auth-public-keys" $auth.existingSecretKey | quote }}
{{- else if $auth.publicKeys }}
- name: MW_AUTH_PUBLIC_KEYS
  value: {{ $auth.publicKeys | quote }}
{{- end }}
- name: MW_AUTH_ISSUER
  value: {{ $auth.issuer | quote }}
- name: MW_AUTH_AUDIENCE
  value: {{ $auth.audience | quote }}
{{- end }}
{{- with .svc.extraEnvVars }}
{{ toYaml . }}
{{- end }}
{{- end -}}
