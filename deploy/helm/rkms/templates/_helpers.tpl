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

{{/* Whether the helm test authenticates as the chart's client helm-test (with auth.clients). */}}
{{- define "rkms.testClient" -}}
{{- if and .Values.tests.enabled (not .Values.auth.allowAnonymous) }}true{{ end }}
{{- end }}

{{/* Whether audit lines go to a file (audit.destination=file) rather than stdout. */}}
{{- define "rkms.auditFile" -}}
{{- if eq .Values.audit.destination "file" }}true{{ end }}
{{- end }}

{{/*
Values the service would refuse, or that would leave the release unusable:
failed here, at render time, with the value to change.
*/}}
{{- define "rkms.checkValues" -}}
{{- $auth := .Values.auth }}
{{- if and (not $auth.clients) (not $auth.allowAnonymous) }}
{{- fail "auth: say who may call RKMS. Declare auth.clients (each with a name, a tokenSha256 from `rkms token` or a certSubject/certSan, the ids and the actions it may use), or set auth.allowAnonymous=true to let anyone who reaches the Service read, create and delete every key. RKMS refuses to listen on 0.0.0.0 with neither." }}
{{- end }}
{{- if and $auth.clients $auth.allowAnonymous }}
{{- fail "auth: auth.allowAnonymous=true and auth.clients exclude each other (with clients, every caller must be one of them); remove one" }}
{{- end }}
{{- range $auth.clients }}
{{- if and (or .certSubject .certSan) (not (include "rkms.clientCA" $)) }}
{{- fail (printf "auth.clients %s: certSubject and certSan need client certificates: set tls.enabled with tls.clientCA (and ca.crt in the Secret)" .name) }}
{{- end }}
{{- if and (include "rkms.testClient" $) (eq .name "helm-test") }}
{{- fail "auth.clients: the name helm-test is the chart's client for the helm test (tests.enabled); rename yours" }}
{{- end }}
{{- end }}
{{- if include "rkms.testClient" . }}
{{- if regexMatch "[*?\\\\]" .Values.tests.keyId }}
{{- fail "tests.keyId: no *, ? or \\ (it is the helm-test client's ids pattern)" }}
{{- end }}
{{- if and (not .Values.tests.token) (not .Values.tests.existingSecret) }}
{{- fail "tests: with auth.clients the helm test needs a token: set tests.token (e.g. --set tests.token=<the token `rkms token` printed>), or tests.existingSecret with tests.tokenSha256, or tests.enabled=false" }}
{{- end }}
{{- if and .Values.tests.existingSecret (not .Values.tests.tokenSha256) }}
{{- fail "tests.existingSecret: set tests.tokenSha256 too, the SHA-256 of the token in it (`rkms token --stdin` prints it), so that the chart can declare the client helm-test" }}
{{- end }}
{{- end }}
{{- if and .Values.tests.enabled .Values.tls.enabled (not .Values.tests.tls.insecureSkipVerify) (not .Values.tests.tls.caSecret) (not .Values.tls.existingSecret) (not .Values.tls.ca) }}
{{- fail "tests.tls: over HTTPS the helm test verifies the server's certificate, and has no CA to verify it with: set tls.ca (the CA that signed tls.cert), or tests.tls.caSecret, or tests.tls.insecureSkipVerify=true" }}
{{- end }}
{{- if not (has .Values.audit.destination (list "stdout" "file")) }}
{{- fail "audit.destination: stdout or file" }}
{{- end }}
{{- $ports := dict "server.port" .Values.server.port }}
{{- if include "rkms.metricsEnabled" . }}{{ $_ := set $ports "metrics.port" .Values.metrics.port }}{{ end }}
{{- if .Values.grpc.enabled }}{{ $_ := set $ports "grpc.port" .Values.grpc.port }}{{ end }}
{{- range $a, $portA := $ports }}
{{- range $b, $portB := $ports }}
{{- if and (lt $a $b) (eq (int $portA) (int $portB)) }}
{{- fail (printf "%s and %s are both %d: each needs a port of its own" $a $b (int $portA)) }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.grpc.shutdownTimeoutMs }}
{{- if and $.Values.grpc.enabled (gt (int .) (int $.Values.server.shutdownTimeoutMs)) }}
{{- fail "grpc.shutdownTimeoutMs: at most server.shutdownTimeoutMs, which bounds the whole drain (and the pod's grace period)" }}
{{- end }}
{{- end }}
{{- with .Values.readinessProbe }}
{{- if hasKey . "grpc" }}
{{- if not $.Values.grpc.enabled }}
{{- fail "readinessProbe.grpc: needs grpc.enabled" }}
{{- end }}
{{- if $.Values.tls.enabled }}
{{- fail "readinessProbe.grpc: the kubelet's gRPC probe cannot speak TLS; with tls.enabled keep the httpGet probe of /readyz" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* One [[auth.clients]] entry from a client of the values (camelCase) into config.toml (snake_case). */}}
{{- define "rkms.authClient" }}
[[auth.clients]]
name = {{ .name | toJson }}
{{- with .tokenSha256 }}
token_sha256 = {{ . | toJson }}
{{- end }}
{{- with .certSubject }}
cert_subject = {{ . | toJson }}
{{- end }}
{{- with .certSan }}
cert_san = {{ . | toJson }}
{{- end }}
ids = {{ .ids | toJson }}
actions = {{ .actions | toJson }}
{{- if not (kindIs "invalid" .requestsPerMinute) }}
requests_per_minute = {{ int .requestsPerMinute }}
{{- end }}
{{- if not (kindIs "invalid" .createsPerMinute) }}
creates_per_minute = {{ int .createsPerMinute }}
{{- end }}
{{- end }}

{{/* `name = <int>` for each setting of the dict that is not null, in name order. */}}
{{- define "rkms.optionalInts" -}}
{{- range $name, $value := . }}
{{- if not (kindIs "invalid" $value) }}
{{ $name }} = {{ int $value }}
{{- end }}
{{- end }}
{{- end }}

{{/*
config.toml: the operator's `config` value, then the sections rendered from the
chart's values, so that what the service listens on and whom it lets in is
what the probes, the Service, the NetworkPolicy, the mounts and the helm test use.
*/}}
{{- define "rkms.configToml" -}}
{{- include "rkms.checkValues" . }}
{{- $server := .Values.server }}
{{- $rendered := "server|metrics|grpc|auth|audit|rate_limit" }}
{{- if or (regexMatch (printf "(?m)^[ \\t]*\\[\\[?[ \\t]*(%s)[ \\t]*[.\\]]" $rendered) .Values.config) (regexMatch (printf "(?m)^[ \\t]*(%s)[ \\t]*[.=]" $rendered) .Values.config) }}
{{- fail "config must not contain [server], [server.tls], [grpc], [metrics], [auth], [[auth.clients]], [audit] or [rate_limit]: the chart renders them from the values server, tls, grpc, metrics, auth, audit and rateLimit" }}
{{- end }}
{{- required "values.config must hold the service's config.toml" .Values.config | trim }}

# Rendered by the Helm chart from its values server, tls, grpc, metrics, auth,
# audit and rateLimit.
[server]
host = "0.0.0.0"
port = {{ int $server.port }}
api_version = {{ $server.apiVersion | quote }}
shutdown_timeout_ms = {{ int $server.shutdownTimeoutMs }}
{{- include "rkms.optionalInts" (dict "request_timeout_ms" $server.requestTimeoutMs "headers_timeout_ms" $server.headersTimeoutMs "receive_timeout_ms" $server.receiveTimeoutMs "keep_alive_timeout_ms" $server.keepAliveTimeoutMs "max_connections" $server.maxConnections "max_requests_per_socket" $server.maxRequestsPerSocket) }}
{{- with $server.allowedHosts }}
{{- $hosts := . }}
{{- $service := include "rkms.fullname" $ }}
{{- range list $service (printf "%s.%s" $service $.Release.Namespace) (printf "%s.%s.svc" $service $.Release.Namespace) }}
{{- if not (has . $hosts) }}{{ $hosts = concat $hosts (list .) }}{{ end }}
{{- end }}
allowed_hosts = {{ toJson $hosts }}
{{- end }}
{{- if .Values.tls.enabled }}

[server.tls]
cert = "/etc/rkms/tls/tls.crt"
key = "/etc/rkms/tls/tls.key"
{{- if include "rkms.clientCA" . }}
ca = "/etc/rkms/tls/ca.crt"
{{- end }}
{{- end }}
{{- if .Values.grpc.enabled }}

[grpc]
port = {{ int .Values.grpc.port }}
{{- include "rkms.optionalInts" (dict "shutdown_timeout_ms" .Values.grpc.shutdownTimeoutMs "max_concurrent_streams" .Values.grpc.maxConcurrentStreams "max_connection_age_ms" .Values.grpc.maxConnectionAgeMs "keepalive_time_ms" .Values.grpc.keepaliveTimeMs "keepalive_timeout_ms" .Values.grpc.keepaliveTimeoutMs) }}
{{- end }}
{{- if include "rkms.metricsEnabled" . }}

[metrics]
port = {{ int .Values.metrics.port }}
{{- end }}

[auth]
allow_anonymous = {{ ternary "true" "false" (eq .Values.auth.allowAnonymous true) }}
{{- range .Values.auth.clients }}
{{ include "rkms.authClient" . }}
{{- end }}
{{- if include "rkms.testClient" . }}
{{- $hash := ternary .Values.tests.tokenSha256 (sha256sum .Values.tests.token) (not (empty .Values.tests.existingSecret)) }}
{{ include "rkms.authClient" (dict "name" "helm-test" "tokenSha256" $hash "ids" (list .Values.tests.keyId) "actions" (list "get" "create")) }}
{{- end }}
{{- if include "rkms.auditFile" . }}

[audit]
path = "/var/log/rkms/audit.log"
{{- end }}
{{- $limits := include "rkms.optionalInts" (dict "requests_per_minute" .Values.rateLimit.requestsPerMinute "creates_per_minute" .Values.rateLimit.createsPerMinute) }}
{{- if $limits }}

[rate_limit]
{{- $limits }}
{{- end }}
{{- end }}

{{/* SIGTERM comes after the preStop sleep; the drain then has shutdownTimeoutMs, plus a margin. */}}
{{- define "rkms.terminationGracePeriodSeconds" -}}
{{- add (int .Values.preStopSleepSeconds) (div (add (int .Values.server.shutdownTimeoutMs) 999) 1000) 5 }}
{{- end }}

{{/* A probe from values, pointed at the API port with the right scheme (or at the gRPC port). */}}
{{- define "rkms.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if $probe.httpGet }}
{{- $_ := set $probe.httpGet "port" "http" }}
{{- $_ := set $probe.httpGet "scheme" (include "rkms.scheme" .root) }}
{{- end }}
{{- if hasKey $probe "grpc" }}
{{- $grpc := $probe.grpc | default dict }}
{{- $_ := set $grpc "port" (int .root.Values.grpc.port) }}
{{- $_ := set $probe "grpc" $grpc }}
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

{{/*
The service's audit file, /var/log/rkms/audit.log, with audit.destination=file:
on a shared claim each pod writes into a directory named after itself (the
jobs write no audit lines, so only the Deployment mounts it).
*/}}
{{- define "rkms.auditVolume" -}}
{{- if include "rkms.auditFile" . }}
- name: audit
  {{- with .Values.audit.file.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ . }}
  {{- else }}
  emptyDir:
    {{- toYaml (.Values.audit.file.emptyDir | default dict) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "rkms.auditVolumeMount" -}}
{{- if include "rkms.auditFile" . }}
- name: audit
  mountPath: /var/log/rkms
  {{- if .Values.audit.file.existingClaim }}
  subPathExpr: $(RKMS_POD_NAME)
  {{- end }}
{{- end }}
{{- end }}
