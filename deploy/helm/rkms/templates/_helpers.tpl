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

{{/*
The container's environment, shared by the Deployment and the sweep CronJob.
The host and port override the config file: a container must listen on all
interfaces, and the port must match the probes and the Service.
*/}}
{{- define "rkms.env" -}}
- name: RKMS_CONFIG
  value: /etc/rkms/config.toml
- name: RKMS_HOST
  value: "0.0.0.0"
- name: RKMS_PORT
  value: {{ .Values.containerPort | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes shared by the Deployment and the sweep CronJob. */}}
{{- define "rkms.volumes" -}}
- name: config
  configMap:
    name: {{ include "rkms.fullname" . }}
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
