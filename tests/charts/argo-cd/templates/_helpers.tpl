{{/* Names and labels, as upstream's chart computes them (release "argocd" -> argocd-server). */}}
{{- define "argo-cd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "argo-cd.fullname" -}}
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

{{- define "argo-cd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* dict "context" $ "component" "server" "name" "server" */}}
{{- define "argo-cd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "argo-cd.name" .context }}-{{ .name }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
{{- end }}

{{- define "argo-cd.labels" -}}
helm.sh/chart: {{ include "argo-cd.chart" .context }}
{{ include "argo-cd.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: argocd
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
{{- with .context.Values.global.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "argo-cd.image" -}}
{{- printf "%s:%s" .Values.global.image.repository (default .Chart.AppVersion .Values.global.image.tag) }}
{{- end }}

{{/* dict "context" $ "values" .Values.server: the component's nodeSelector and tolerations, else global's. */}}
{{- define "argo-cd.scheduling" -}}
{{- with (.values.nodeSelector | default .context.Values.global.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.values.tolerations | default .context.Values.global.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "argo-cd.podMetadata" -}}
labels:
  {{- include "argo-cd.selectorLabels" . | nindent 2 }}
  app.kubernetes.io/part-of: argocd
  {{- with .context.Values.global.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .context.Values.global.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "argo-cd.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
seccompProfile:
  type: RuntimeDefault
capabilities:
  drop:
    - ALL
{{- end }}

{{/* ConfigMap data: every value as a string, as Argo CD reads them. */}}
{{- define "argo-cd.stringData" -}}
{{- range $key, $value := . }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
An upstream CRD file (text, not parsed as a template) with annotations and labels added to its
metadata. dict "text" ... "annotations" dict "labels" dict
*/}}
{{- define "argo-cd.crd" -}}
{{- $text := .text }}
{{- with .annotations }}
{{- if contains "\nmetadata:\n  annotations:\n" $text }}
{{- $text = replace "\nmetadata:\n  annotations:\n" (printf "\nmetadata:\n  annotations:\n%s\n" (toYaml . | indent 4)) $text }}
{{- else }}
{{- $text = replace "\nmetadata:\n" (printf "\nmetadata:\n  annotations:\n%s\n" (toYaml . | indent 4)) $text }}
{{- end }}
{{- end }}
{{- with .labels }}
{{- if regexMatch "(?m)^  labels:$" $text }}
{{- $text = regexReplaceAll "(?m)^  labels:\n" $text (printf "  labels:\n%s\n" (toYaml . | indent 4)) }}
{{- else }}
{{- $text = replace "\nmetadata:\n" (printf "\nmetadata:\n  labels:\n%s\n" (toYaml . | indent 4)) $text }}
{{- end }}
{{- end }}
{{- $text }}
{{- end }}

{{/*
A component's workload and its ServiceAccount.
dict "context" $ "kind" "Deployment" "component" "server" "name" "server" "values" .Values.server
     "image" "repo:tag" "args" (list ...) "ports" (list (dict "name" "server" "containerPort" 8080))
*/}}
{{- define "argo-cd.workload" -}}
{{- $ctx := dict "context" .context "component" .component "name" .name }}
{{- $fullname := printf "%s-%s" (include "argo-cd.fullname" .context) .name }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $fullname }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "argo-cd.labels" $ctx | nindent 4 }}
automountServiceAccountToken: true
---
apiVersion: apps/v1
kind: {{ .kind }}
metadata:
  name: {{ $fullname }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "argo-cd.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ if hasKey .values "replicas" }}{{ .values.replicas }}{{ else }}1{{ end }}
  revisionHistoryLimit: 5
  {{- if eq .kind "StatefulSet" }}
  serviceName: {{ $fullname }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "argo-cd.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      {{- include "argo-cd.podMetadata" $ctx | nindent 6 }}
    spec:
      serviceAccountName: {{ $fullname }}
      containers:
        - name: {{ .name }}
          image: {{ .image }}
          imagePullPolicy: {{ .context.Values.global.image.imagePullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .containerPort }}
              protocol: TCP
            {{- end }}
          readinessProbe:
            tcpSocket:
              port: {{ (first .ports).containerPort }}
            initialDelaySeconds: 5
            periodSeconds: 10
          livenessProbe:
            tcpSocket:
              port: {{ (first .ports).containerPort }}
            initialDelaySeconds: 10
            periodSeconds: 10
          {{- with .values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- include "argo-cd.containerSecurityContext" . | nindent 12 }}
      {{- with include "argo-cd.scheduling" (dict "context" .context "values" .values) | trim }}
      {{- . | nindent 6 }}
      {{- end }}
{{- end }}

{{/* dict "context" $ "component" "server" "name" "server" "ports" (list (dict "name" "http" "port" 80 "targetPort" 8080)) */}}
{{- define "argo-cd.service" -}}
{{- $ctx := dict "context" .context "component" .component "name" .name }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "argo-cd.fullname" .context }}-{{ .name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "argo-cd.labels" $ctx | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .type | default "ClusterIP" }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .targetPort }}
      protocol: TCP
    {{- end }}
  selector:
    {{- include "argo-cd.selectorLabels" $ctx | nindent 4 }}
{{- end }}
