{{/* The chart's name, overridable. */}}
{{- define "rkms.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: object names are limited to 63 characters (DNS labels).
A release already named like the chart is not repeated ("rkms", not "rkms-rkms").
*/}}
{{- define "rkms.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rkms.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: must never change for a release (Deployment selectors are immutable). */}}
{{- define "rkms.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rkms.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The helm test pod's labels: not the selector labels, so it never joins the Service or the PDB. */}}
{{- define "rkms.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "rkms.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{- define "rkms.labels" -}}
helm.sh/chart: {{ include "rkms.chart" . }}
{{ include "rkms.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rkms.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rkms.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "rkms.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "rkms.scheme" -}}
{{- if .Values.tls.enabled }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{- define "rkms.metricsEnabled" -}}
{{- if not (kindIs "invalid" .Values.metrics.port) }}true{{ end }}
{{- end }}

{{/* Whether [server.tls] names a client CA, which must then be in the Secret as ca.crt. */}}
{{- define "rkms.clientCA" -}}
{{- if and .Values.tls.enabled (or .Values.tls.clientCA .Values.tls.ca) }}true{{ end }}
{{- end }}

{{- define "rkms.tlsSecretName" -}}
{{- default (include "rkms.fullname" .) .Values.tls.existingSecret }}
{{- end }}

{{/*
config.toml: the operator's `config` value, then [server], [server.tls] and
[metrics] rendered from the chart's values, so that the port the service
listens on is the one the probes, the Service and the NetworkPolicy use.
*/}}
{{- define "rkms.configToml" -}}
{{- $server := .Values.server }}
{{- if regexMatch "(?m)^[ \\t]*\\[[ \\t]*(server|metrics)[ \\t]*(\\.[ \\t]*tls[ \\t]*)?\\]" .Values.config }}
{{- fail "config must not contain [server], [server.tls] or [metrics]: the chart renders them from the values server, tls and metrics" }}
{{- end }}
{{- required "values.config must hold the service's config.toml" .Values.config | trim }}

# [server], [server.tls] and [metrics]: rendered by the Helm chart from its
# values server, tls and metrics.
[server]
host = "0.0.0.0"
port = {{ int $server.port }}
api_version = {{ $server.apiVersion | quote }}
shutdown_timeout_ms = {{ int $server.shutdownTimeoutMs }}
{{- if not (kindIs "invalid" $server.requestTimeoutMs) }}
request_timeout_ms = {{ int $server.requestTimeoutMs }}
{{- end }}
{{- with $server.allowedHosts }}
allowed_hosts = {{ toJson . }}
{{- end }}
{{- if .Values.tls.enabled }}

[server.tls]
cert = "/etc/rkms/tls/tls.crt"
key = "/etc/rkms/tls/tls.key"
{{- if include "rkms.clientCA" . }}
ca = "/etc/rkms/tls/ca.crt"
{{- end }}
{{- end }}
{{- if include "rkms.metricsEnabled" . }}

[metrics]
port = {{ int .Values.metrics.port }}
{{- end }}
{{- end }}

{{/* SIGTERM comes after the preStop sleep; the drain then has shutdownTimeoutMs, plus a margin. */}}
{{- define "rkms.terminationGracePeriodSeconds" -}}
{{- add (int .Values.preStopSleepSeconds) (div (add (int .Values.server.shutdownTimeoutMs) 999) 1000) 5 }}
{{- end }}

{{/* A probe from values, pointed at the API port with the right scheme. */}}
{{- define "rkms.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if $probe.httpGet }}
{{- $_ := set $probe.httpGet "port" "http" }}
{{- $_ := set $probe.httpGet "scheme" (include "rkms.scheme" .root) }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{/* The container's environment, shared by the Deployment and the CronJobs. */}}
{{- define "rkms.env" -}}
- name: RKMS_CONFIG
  value: /etc/rkms/config.toml
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volumes shared by the Deployment and the CronJobs: config.toml and, with TLS,
the certificate files in one projected volume at /etc/rkms (a Secret's
projection follows its updates, so a renewed certificate arrives by itself).
*/}}
{{- define "rkms.volumes" -}}
- name: config
  projected:
    sources:
      - configMap:
          name: {{ include "rkms.fullname" . }}
      {{- if .Values.tls.enabled }}
      - secret:
          name: {{ include "rkms.tlsSecretName" . }}
          items:
            - key: tls.crt
              path: tls/tls.crt
            - key: tls.key
              path: tls/tls.key
            {{- if include "rkms.clientCA" . }}
            - key: ca.crt
              path: tls/ca.crt
            {{- end }}
      {{- end }}
# readOnlyRootFilesystem: a writable /tmp for anything (Node, the SDK) that wants one.
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{- define "rkms.volumeMounts" -}}
- name: config
  mountPath: /etc/rkms
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}
