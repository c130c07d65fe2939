{{/*
The objects that live inside karmada-apiserver (not the host cluster). Helm only talks to the host
cluster, so these are rendered as text into a ConfigMap and applied by the registration Job with
the karmada-apiserver kubeconfig (the pattern of Karmada's own chart, semantics.md §9).

Call with (dict "root" $ "caBundle" "<base64 PEM, or the runtime placeholder>").

What is registered is exactly what the binary serves:
  /mutate/workload   takeover.workload.karmada-takeover.io     mutating    CREATE,UPDATE  `kinds`
  /validate/workload repromotion.workload.karmada-takeover.io  validating  CREATE,UPDATE  `kinds`
  /mutate/policy     fix.policy.karmada-takeover.io            mutating    CREATE,UPDATE  PP, CPP  (guardrails mode fix only)
  /validate/policy   guardrails.policy.karmada-takeover.io     validating  CREATE,UPDATE  PP, CPP
No subresources: karmada-controller-manager writes status through them.
*/}}

{{- define "karmada-takeover.webhookUrl" -}}
{{- printf "https://%s:%v%s" (include "karmada-takeover.serviceHost" .root) .root.Values.service.port .path -}}
{{- end -}}

{{/*
namespaceSelector shared by all webhooks. It skips namespaces labelled
karmada-takeover.io/admission=disabled, the reserved names, and Karmada's execution namespaces
`karmada-es-*` through the `karmada.io/system=true` label Karmada (>= 1.11) sets on them. A label
selector cannot match name prefixes, so other `kube-*` names are only skipped by the binary.
Cluster-scoped objects (ClusterPropagationPolicy) are never filtered by a namespaceSelector.
*/}}
{{- define "karmada-takeover.namespaceSelector" -}}
{{- $v := .Values -}}
{{- $names := list "karmada-system" "karmada-cluster" "kube-system" "kube-public" "kube-node-lease" -}}
{{- range $v.engine.namespaces.exclude -}}
{{- if not (hasSuffix "*" .) -}}
{{- $names = append $names . -}}
{{- end -}}
{{- end -}}
{{- $names = concat $names $v.webhooks.namespaceSelector.extraExcludedNamespaces | uniq -}}
namespaceSelector:
  matchExpressions:
    - key: karmada-takeover.io/admission
      operator: NotIn
      values: ["disabled"]
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ toJson $names }}
    - key: karmada.io/system
      operator: NotIn
      values: ["true"]
{{- end -}}

{{/* Rules for the selected kinds: one rule per (group, version, scope), resources in list order. */}}
{{- define "karmada-takeover.workloadRules" -}}
{{- $kinds := include "karmada-takeover.kinds" . | fromJsonArray -}}
{{- $order := list -}}
{{- $byKey := dict -}}
{{- range $kinds -}}
{{- $key := printf "%s|%s|%s" .group .version .scope -}}
{{- if not (hasKey $byKey $key) -}}
{{- $order = append $order $key -}}
{{- $_ := set $byKey $key list -}}
{{- end -}}
{{- $_ := set $byKey $key (append (get $byKey $key) .resource) -}}
{{- end -}}
rules:
{{- range $order }}
{{- $parts := splitList "|" . }}
  - apiGroups: [{{ index $parts 0 | quote }}]
    apiVersions: [{{ index $parts 1 | quote }}]
    resources: {{ get $byKey . | toJson }}
    operations: ["CREATE", "UPDATE"]
    scope: {{ index $parts 2 | quote }}
{{- end }}
{{- end -}}

{{- define "karmada-takeover.policyRules" -}}
rules:
  - apiGroups: ["policy.karmada.io"]
    apiVersions: ["v1alpha1"]
    resources: ["propagationpolicies"]
    operations: ["CREATE", "UPDATE"]
    scope: "Namespaced"
  - apiGroups: ["policy.karmada.io"]
    apiVersions: ["v1alpha1"]
    resources: ["clusterpropagationpolicies"]
    operations: ["CREATE", "UPDATE"]
    scope: "Cluster"
{{- end -}}

{{- define "karmada-takeover.karmadaManifests" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $caBundle := .caBundle -}}
{{- $configName := include "karmada-takeover.webhookConfigurationName" $root -}}
{{- $rbacName := include "karmada-takeover.karmadaRbacName" $root -}}
{{- $labels := include "karmada-takeover.karmadaLabels" $root -}}
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: {{ $configName }}
  labels:
    {{- $labels | nindent 4 }}
webhooks:
  - name: takeover.workload.karmada-takeover.io
    clientConfig:
      url: {{ include "karmada-takeover.webhookUrl" (dict "root" $root "path" "/mutate/workload") }}
      caBundle: {{ $caBundle }}
    {{- include "karmada-takeover.workloadRules" $root | nindent 4 }}
    {{- include "karmada-takeover.namespaceSelector" $root | nindent 4 }}
    matchPolicy: Equivalent
    # May create a takeover PropagationPolicy, never on dryRun.
    sideEffects: NoneOnDryRun
    admissionReviewVersions: ["v1"]
    reinvocationPolicy: Never
    failurePolicy: {{ $v.webhooks.takeover.failurePolicy }}
    timeoutSeconds: {{ $v.webhooks.takeover.timeoutSeconds }}
  {{- if eq $v.engine.guardrails.mode "fix" }}
  - name: fix.policy.karmada-takeover.io
    clientConfig:
      url: {{ include "karmada-takeover.webhookUrl" (dict "root" $root "path" "/mutate/policy") }}
      caBundle: {{ $caBundle }}
    {{- include "karmada-takeover.policyRules" $root | nindent 4 }}
    {{- include "karmada-takeover.namespaceSelector" $root | nindent 4 }}
    matchPolicy: Equivalent
    sideEffects: None
    admissionReviewVersions: ["v1"]
    reinvocationPolicy: Never
    failurePolicy: {{ $v.webhooks.policyFix.failurePolicy }}
    timeoutSeconds: {{ $v.webhooks.policyFix.timeoutSeconds }}
  {{- end }}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ $configName }}
  labels:
    {{- $labels | nindent 4 }}
webhooks:
  - name: repromotion.workload.karmada-takeover.io
    clientConfig:
      url: {{ include "karmada-takeover.webhookUrl" (dict "root" $root "path" "/validate/workload") }}
      caBundle: {{ $caBundle }}
    {{- include "karmada-takeover.workloadRules" $root | nindent 4 }}
    {{- include "karmada-takeover.namespaceSelector" $root | nindent 4 }}
    matchPolicy: Equivalent
    sideEffects: None
    admissionReviewVersions: ["v1"]
    failurePolicy: {{ $v.webhooks.repromotion.failurePolicy }}
    timeoutSeconds: {{ $v.webhooks.repromotion.timeoutSeconds }}
  - name: guardrails.policy.karmada-takeover.io
    clientConfig:
      url: {{ include "karmada-takeover.webhookUrl" (dict "root" $root "path" "/validate/policy") }}
      caBundle: {{ $caBundle }}
    {{- include "karmada-takeover.policyRules" $root | nindent 4 }}
    {{- include "karmada-takeover.namespaceSelector" $root | nindent 4 }}
    matchPolicy: Equivalent
    sideEffects: None
    admissionReviewVersions: ["v1"]
    failurePolicy: {{ $v.webhooks.guardrails.failurePolicy }}
    timeoutSeconds: {{ $v.webhooks.guardrails.timeoutSeconds }}
{{- if $v.karmada.rbac.create }}
{{- $kinds := include "karmada-takeover.kinds" $root | fromJsonArray }}
{{- $groups := dict }}
{{- range $kinds }}
{{- $_ := set $groups .group (append (get $groups .group | default list) .resource | uniq) }}
{{- end }}
---
# What the webhook needs in karmada-apiserver, and nothing more.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ $rbacName }}
  labels:
    {{- $labels | nindent 4 }}
rules:
  # Read policies to index them; create/patch (server-side apply)/update takeover policies;
  # delete = release a takeover policy so an application policy can claim the template.
  - apiGroups: ["policy.karmada.io"]
    resources: ["propagationpolicies", "clusterpropagationpolicies"]
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
  # Member clusters and their readiness.
  - apiGroups: ["cluster.karmada.io"]
    resources: ["clusters"]
    verbs: ["get", "list", "watch"]
  # Metadata-only reads of member workloads through Karmada's cluster proxy. Karmada impersonates
  # this identity in the member cluster, which needs its own read RBAC for it.
  - apiGroups: ["cluster.karmada.io"]
    resources: ["clusters/proxy"]
    verbs: ["get"]
  # Resource templates of the selected kinds. patch: the reconciler records an adoption on
  # templates applied while the webhook was down (reconciler.sweepExistingTemplates), and removes
  # the work.karmada.io/conflict-resolution: overwrite that earlier versions wrote on adopted
  # templates once an application policy claims them (a JSON patch that tests before it removes).
  {{- range $group := keys $groups | sortAlpha }}
  - apiGroups: [{{ $group | quote }}]
    resources: {{ get $groups $group | toJson }}
    verbs: ["get", "list", "watch", "patch"]
  {{- end }}
  # Dependency promotion copies a workload's ConfigMaps and Secrets from a member into Karmada.
  - apiGroups: [""]
    resources: ["configmaps", "secrets"]
    verbs: ["create"]
  # The karmada-takeover.io/admission=disabled opt-out label.
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $rbacName }}
  labels:
    {{- $labels | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $rbacName }}
subjects:
  {{- include "karmada-takeover.rbacSubjects" $root | trim | nindent 2 }}
---
# Leader election of the reconciler, in one namespace only.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $rbacName }}
  namespace: {{ include "karmada-takeover.leaseNamespace" $root }}
  labels:
    {{- $labels | nindent 4 }}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $rbacName }}
  namespace: {{ include "karmada-takeover.leaseNamespace" $root }}
  labels:
    {{- $labels | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $rbacName }}
subjects:
  {{- include "karmada-takeover.rbacSubjects" $root | trim | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "karmada-takeover.rbacSubjects" -}}
{{- range .Values.karmada.rbac.subjects }}
{{- if eq .kind "ServiceAccount" }}
- kind: ServiceAccount
  name: {{ .name }}
  namespace: {{ required "karmada.rbac.subjects: a ServiceAccount subject needs a namespace (inside karmada-apiserver)" .namespace }}
{{- else }}
- kind: {{ .kind }}
  apiGroup: rbac.authorization.k8s.io
  name: {{ .name }}
{{- end }}
{{- end }}
{{- end -}}
