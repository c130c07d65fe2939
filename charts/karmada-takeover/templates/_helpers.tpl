{{/*
Names. Everything is derived from one "fullname" so that a second release in the same
namespace never collides, and the objects inside karmada-apiserver carry names of our own
(Karmada owns `mutating-config` / `validating-config`).
*/}}
{{- define "karmada-takeover.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "karmada-takeover.fullname" -}}
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

{{- define "karmada-takeover.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "karmada-takeover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "karmada-takeover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "karmada-takeover.labels" -}}
helm.sh/chart: {{ include "karmada-takeover.chart" . }}
{{ include "karmada-takeover.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: karmada-takeover
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Labels of the objects inside karmada-apiserver: Helm does not manage them there, the registration
Job applies them (server-side apply, field manager karmada-takeover-chart).
*/}}
{{- define "karmada-takeover.karmadaLabels" -}}
helm.sh/chart: {{ include "karmada-takeover.chart" . }}
{{ include "karmada-takeover.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: karmada-takeover-chart
app.kubernetes.io/part-of: karmada-takeover
karmada-takeover.io/release-namespace: {{ .Release.Namespace }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Service DNS names. The webhook URL uses `<svc>.<ns>.svc` like Karmada's own chart. */}}
{{- define "karmada-takeover.serviceName" -}}
{{- include "karmada-takeover.fullname" . -}}
{{- end -}}

{{- define "karmada-takeover.serviceHost" -}}
{{- printf "%s.%s.svc" (include "karmada-takeover.serviceName" .) .Release.Namespace -}}
{{- end -}}

{{/* The DNS names the serving certificate must cover (auto and certManager modes). */}}
{{- define "karmada-takeover.dnsNames" -}}
{{- $svc := include "karmada-takeover.serviceName" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) -}}
{{- concat $names .Values.certs.extraDNSNames | uniq | toJson -}}
{{- end -}}

{{/* Names of the objects the registration Job creates inside karmada-apiserver. */}}
{{- define "karmada-takeover.webhookConfigurationName" -}}
{{- default (include "karmada-takeover.fullname" .) .Values.webhooks.configurationName -}}
{{- end -}}

{{- define "karmada-takeover.karmadaRbacName" -}}
{{- default (include "karmada-takeover.fullname" .) .Values.karmada.rbac.name -}}
{{- end -}}

{{- define "karmada-takeover.leaseNamespace" -}}
{{- default .Release.Namespace .Values.karmada.leaseNamespace -}}
{{- end -}}

{{/* The TLS Secret the Deployment mounts (tls.crt, tls.key, ca.crt). */}}
{{- define "karmada-takeover.tlsSecretName" -}}
{{- if and (eq .Values.certs.mode "custom") .Values.certs.custom.existingSecret -}}
{{- .Values.certs.custom.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "karmada-takeover.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the caBundle cannot be known at render time and the registration Job must read
ca.crt from the mounted TLS Secret and substitute it (cert-manager, or an existing Secret).
*/}}
{{- define "karmada-takeover.caBundleAtRuntime" -}}
{{- if or (eq .Values.certs.mode "certManager") (and (eq .Values.certs.mode "custom") .Values.certs.custom.existingSecret) -}}
true
{{- end -}}
{{- end -}}

{{- define "karmada-takeover.caBundlePlaceholder" -}}
__KARMADA_TAKEOVER_CA_BUNDLE__
{{- end -}}

{{/* Kubeconfig Secrets: the webhook's own identity, and the (usually admin) one the Jobs use. */}}
{{- define "karmada-takeover.registrationKubeconfigSecret" -}}
{{- default .Values.karmada.kubeconfig.secretName .Values.registration.kubeconfig.secretName -}}
{{- end -}}

{{- define "karmada-takeover.registrationKubeconfigKey" -}}
{{- if .Values.registration.kubeconfig.secretName -}}
{{- .Values.registration.kubeconfig.key -}}
{{- else -}}
{{- .Values.karmada.kubeconfig.key -}}
{{- end -}}
{{- end -}}

{{- define "karmada-takeover.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- $repo := ternary (printf "%s/%s" .Values.image.registry .Values.image.repository) .Values.image.repository (ne .Values.image.registry "") -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{- define "karmada-takeover.kubectlImage" -}}
{{- $img := .Values.registration.image -}}
{{- $repo := ternary (printf "%s/%s" $img.registry $img.repository) $img.repository (ne $img.registry "") -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $img.tag -}}
{{- end -}}
{{- end -}}

{{/*
Selected kinds, normalised: each entry gets `apiVersion` (group/version, or just version for the
core group) and `scope` (default Namespaced). The same list feeds the webhook rules, the RBAC and
the engine config, so they cannot drift apart.
*/}}
{{- define "karmada-takeover.kinds" -}}
{{- $out := list -}}
{{- range .Values.kinds -}}
{{- $apiVersion := ternary (printf "%s/%s" .group .version) .version (ne .group "") -}}
{{- $out = append $out (dict "group" .group "version" .version "resource" .resource "kind" .kind "apiVersion" $apiVersion "scope" (default "Namespaced" .scope)) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Checks that values.schema.json cannot express (cross-field rules the binary also enforces). */}}
{{- define "karmada-takeover.validate" -}}
{{- $e := .Values.engine -}}
{{- if gt (int $e.takeover.priority) (int $e.tiers.batchMaxPriority) -}}
{{- fail (printf "engine.takeover.priority (%v) must be <= engine.tiers.batchMaxPriority (%v): takeover policies are batch policies" $e.takeover.priority $e.tiers.batchMaxPriority) -}}
{{- end -}}
{{- if le (int $e.tiers.applicationMinPriority) (int $e.tiers.batchMaxPriority) -}}
{{- fail (printf "engine.tiers.applicationMinPriority (%v) must be > engine.tiers.batchMaxPriority (%v)" $e.tiers.applicationMinPriority $e.tiers.batchMaxPriority) -}}
{{- end -}}
{{- if eq .Values.certs.mode "custom" -}}
{{- $c := .Values.certs.custom -}}
{{- if and $c.existingSecret (or $c.caCrt $c.crt $c.key) -}}
{{- fail "certs.custom: set either existingSecret or caCrt/crt/key, not both (the caBundle must come from the same place as the serving certificate)" -}}
{{- end -}}
{{- if and (not $c.existingSecret) (not (and $c.caCrt $c.crt $c.key)) -}}
{{- fail "certs.mode=custom needs certs.custom.existingSecret, or all of certs.custom.caCrt, certs.custom.crt and certs.custom.key" -}}
{{- end -}}
{{- end -}}
{{- $s := .Values.server -}}
{{- if lt (int64 $s.memoryBudgetMiB) (mul 4 (int64 $s.maxBodyMiB)) -}}
{{- fail (printf "server.memoryBudgetMiB (%v) must be at least 4 × server.maxBodyMiB (%v), like --memory-budget and --max-body-bytes" $s.memoryBudgetMiB $s.maxBodyMiB) -}}
{{- end -}}
{{- if le (int64 .Values.terminationGracePeriodSeconds) (add (int64 $s.shutdownDelaySeconds) (int64 $s.shutdownGracePeriodSeconds)) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed server.shutdownDelaySeconds + server.shutdownGracePeriodSeconds (%v + %v): the kubelet would kill the pod before its drain ends" .Values.terminationGracePeriodSeconds $s.shutdownDelaySeconds $s.shutdownGracePeriodSeconds) -}}
{{- end -}}
{{- $seen := dict -}}
{{- range .Values.kinds -}}
{{- $key := printf "%s/%s/%s" .group .version .resource -}}
{{- if hasKey $seen $key -}}
{{- fail (printf "kinds: %s is listed twice" $key) -}}
{{- end -}}
{{- $_ := set $seen $key true -}}
{{- end -}}
{{- end -}}
