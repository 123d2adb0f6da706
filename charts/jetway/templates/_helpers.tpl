{{/* Chart name, truncated to DNS label length. */}}
{{- define "jetway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name if it already contains the chart
name (e.g. release "jetway" gives "jetway"), else "<release>-<chart>".
*/}}
{{- define "jetway.fullname" -}}
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

{{- define "jetway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "jetway.labels" -}}
helm.sh/chart: {{ include "jetway.chart" . }}
{{ include "jetway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jetway
{{- end }}

{{/* Labels selecting the manager's pods; immutable once installed. */}}
{{- define "jetway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jetway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "jetway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jetway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "jetway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Labels selecting external-dns's pod (externalDNS.enabled). */}}
{{- define "jetway.externalDNSSelectorLabels" -}}
app.kubernetes.io/name: {{ include "jetway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: external-dns
{{- end }}

{{/* Labels of external-dns's objects. */}}
{{- define "jetway.externalDNSLabels" -}}
helm.sh/chart: {{ include "jetway.chart" . }}
{{ include "jetway.externalDNSSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jetway
{{- end }}
