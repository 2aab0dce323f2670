{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "image-classifier.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters (the DNS label limit of some names).
If the release name already contains the chart name it is used as is.
*/}}
{{- define "image-classifier.fullname" -}}
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

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "image-classifier.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Version label: the image tag (`<env>-<model-version>-<git-sha>`) when set, else the chart's appVersion.
*/}}
{{- define "image-classifier.version" -}}
{{- default .Chart.AppVersion .Values.image.tag | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels every object carries, except the selector labels.
*/}}
{{- define "image-classifier.commonLabels" -}}
helm.sh/chart: {{ include "image-classifier.chart" . }}
app.kubernetes.io/version: {{ include "image-classifier.version" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "image-classifier.name" . }}
{{- end }}

{{/*
Common labels of the service's objects.
*/}}
{{- define "image-classifier.labels" -}}
{{ include "image-classifier.selectorLabels" . }}
{{ include "image-classifier.commonLabels" . }}
{{- end }}

{{/*
Selector labels: they pick the serving pods; the `helm test` pod does not carry them.
*/}}
{{- define "image-classifier.selectorLabels" -}}
app.kubernetes.io/name: {{ include "image-classifier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of the `helm test` objects: same release, never selected by the Service.
*/}}
{{- define "image-classifier.testLabels" -}}
{{ include "image-classifier.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{/*
Name of the ServiceAccount the pods use.
*/}}
{{- define "image-classifier.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "image-classifier.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container port is part of the image contract (PORT=8080), not a value.
*/}}
{{- define "image-classifier.containerPort" -}}
8080
{{- end }}

{{/*
Image reference: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "image-classifier.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the auth token: the existing one, or the chart's own.
*/}}
{{- /* The canary's image: its own digest, from image.repository unless it names another. */}}
{{- define "image-classifier.canaryImage" -}}
{{- $canary := .Values.canary -}}
{{- if not $canary.image.digest }}
{{- fail "canary.enabled needs canary.image.digest: the canary runs another image, pinned by digest" }}
{{- end }}
{{- if not (toString $canary.model.version) }}
{{- fail "canary.enabled needs canary.model.version: the model version the canary image serves" }}
{{- end }}
{{- printf "%s@%s" (default .Values.image.repository $canary.image.repository) $canary.image.digest }}
{{- end }}

{{- define "image-classifier.authSecretName" -}}
{{- default (printf "%s-auth" (include "image-classifier.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/*
Directory the auth token Secret is mounted in.
*/}}
{{- define "image-classifier.authTokenDir" -}}
/var/run/secrets/image-classifier/auth
{{- end }}

{{/*
Key of the auth file inside the Secret: the token (mode token) or the clients file (mode clients).
*/}}
{{- define "image-classifier.authKey" -}}
{{- ternary .Values.auth.clientsKey .Values.auth.secretKey (eq .Values.auth.mode "clients") }}
{{- end }}

{{/*
Path of the mounted auth file: the value of AUTH_TOKEN_FILE or AUTH_CLIENTS_FILE.
*/}}
{{- define "image-classifier.authFile" -}}
{{- printf "%s/%s" (include "image-classifier.authTokenDir" .) (include "image-classifier.authKey" .) }}
{{- end }}

{{/*
Volume with the auth token (a list item), shared by the server and the test pod.
*/}}
{{- define "image-classifier.authVolume" -}}
- name: auth-token
  secret:
    secretName: {{ include "image-classifier.authSecretName" . }}
    defaultMode: 0440
    items:
      - key: {{ include "image-classifier.authKey" . }}
        path: {{ include "image-classifier.authKey" . }}
{{- end }}

{{/*
Mount of the auth token volume (a list item).
*/}}
{{- define "image-classifier.authVolumeMount" -}}
- name: auth-token
  mountPath: {{ include "image-classifier.authTokenDir" . }}
  readOnly: true
{{- end }}

{{/*
Fails the render when auth is enabled without a source for its mode, when the other mode's value
is set (it would be ignored), or when two clients share a name.
*/}}
{{- define "image-classifier.validateAuth" -}}
{{- $auth := .Values.auth }}
{{- $source := ternary "clients" "token" (eq $auth.mode "clients") }}
{{- $other := ternary "token" "clients" (eq $auth.mode "clients") }}
{{- if and $auth.enabled (not $auth.existingSecret) (not (get $auth $source)) }}
{{- fail (printf "auth.enabled is true but neither auth.existingSecret nor auth.%s is set: set one of them" $source) }}
{{- end }}
{{- if get $auth $other }}
{{- fail (printf "auth.%s is set but auth.mode is %s: set auth.mode=%s or remove auth.%s" $other $auth.mode $other $other) }}
{{- end }}
{{- $names := list }}
{{- range $auth.clients }}
{{- if has .name $names }}
{{- fail (printf "auth.clients: the name %q appears twice: client names must be unique" .name) }}
{{- end }}
{{- $names = append $names .name }}
{{- end }}
{{- end }}

{{/*
Fails the render unless the grace period covers the preStop sleep plus gunicorn's graceful shutdown.
*/}}
{{- define "image-classifier.validateGracePeriod" -}}
{{- $needed := add .Values.preStopSleepSeconds .Values.gunicorn.gracefulTimeoutSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + gunicorn.gracefulTimeoutSeconds (%d), or in-flight requests are killed" (int .Values.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- end }}

{{/*
Hardened container securityContext, shared by the server and the test pod.
*/}}
{{- define "image-classifier.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Hardened pod securityContext: the image's UID/GID 10001.
*/}}
{{- define "image-classifier.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
An HTTP probe on the http port: path and the probe's values (periodSeconds, failureThreshold, timeoutSeconds).
*/}}
{{- define "image-classifier.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
periodSeconds: {{ .probe.periodSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
{{- end }}

{{/*
Fails the render unless an enabled Gateway has a host, the certificate source its class takes,
and a ClusterIP Service (anything else would publish plain HTTP beside the HTTPS Gateway).
*/}}
{{- define "image-classifier.validateGateway" -}}
{{- with .Values.gateway }}
{{- if .enabled }}
{{- if not .host }}
{{- fail "gateway.enabled is true but gateway.host is empty: set the DNS name clients use" }}
{{- end }}
{{- if and (eq .className "gke-l7-global-external-managed") (not .certificateMap) }}
{{- fail "gateway.className gke-l7-global-external-managed takes its certificate from gateway.certificateMap, which is empty" }}
{{- end }}
{{- if and (eq .className "gke-l7-rilb") (not .certificates) }}
{{- fail "gateway.className gke-l7-rilb takes its certificates from gateway.certificates, which is empty" }}
{{- end }}
{{- if and (eq .className "gke-l7-rilb") .certificateMap }}
{{- fail "gateway.certificateMap applies to gke-l7-global-external-managed only; gke-l7-rilb takes gateway.certificates" }}
{{- end }}
{{- if ne $.Values.service.type "ClusterIP" }}
{{- fail (printf "gateway.enabled serves HTTPS, but service.type %s would publish plain HTTP beside it: set service.type ClusterIP" $.Values.service.type) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Model keys (modelKeys): the directory they are mounted in, and whether each is configured.
*/}}
{{- define "image-classifier.modelKeysDir" -}}
/var/run/secrets/image-classifier/model
{{- end }}

{{- define "image-classifier.modelKeysName" -}}
{{- printf "%s-model-keys" (include "image-classifier.fullname" .) }}
{{- end }}

{{- define "image-classifier.hasModelDataKey" -}}
{{- if or .Values.modelKeys.dataKey .Values.modelKeys.existingSecret }}true{{ end }}
{{- end }}

{{- define "image-classifier.hasModelKeys" -}}
{{- if or .Values.modelKeys.publicKey (include "image-classifier.hasModelDataKey" .) }}true{{ end }}
{{- end }}

{{/*
One read-only volume with the public key (ConfigMap) and the data key (Secret), a list item.
*/}}
{{- define "image-classifier.modelKeysVolume" -}}
- name: model-keys
  projected:
    defaultMode: 0440
    sources:
      {{- if .Values.modelKeys.publicKey }}
      - configMap:
          name: {{ include "image-classifier.modelKeysName" . }}
          items:
            - key: public-key.pem
              path: public-key.pem
      {{- end }}
      {{- if include "image-classifier.hasModelDataKey" . }}
      - secret:
          name: {{ default (include "image-classifier.modelKeysName" .) .Values.modelKeys.existingSecret }}
          items:
            - key: {{ .Values.modelKeys.secretKey }}
              path: data.key
      {{- end }}
{{- end }}
