{{- /*
_helpers.tpl: from the platc stdlib (helm/templates/_helpers.tpl). platc copies it verbatim into
every chart it generates. To change it for a whole platform, put a file at the same path in a
stdlib overlay directory (`--stdlib DIR` or `stdlib "DIR"` in platform.kdl, see docs/stdlib.md);
never edit the generated copy.

These named templates are the single definition of the labels and pod pieces every object
shares. They mirror platc's own renderer (compiler/src/emit/manifests.rs), so that
`helm template` and `platc build` produce the same objects; tests/helm_equivalence.rs checks it.

They take a dict describing one process of the service:
  ctx          the root context ($)
  component    web | worker | cron
  process      the process's object name (the service name for web)
  name         the object's name (metadata) or the container's name (pods)
  annotations  the object's own annotations, a dict (metadata)
*/ -}}

{{- /* Selector labels of one process: what its Deployment, Service, PDB and ServiceMonitor
select on. Two processes never share them. */ -}}
{{- define "platc.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Values.fullname | quote }}
app.kubernetes.io/component: {{ .component | quote }}
platc.dev/process: {{ .process | quote }}
{{- end }}

{{- /* The standard labels of every object and pod. */ -}}
{{- define "platc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | quote }}
{{ include "platc.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | quote }}
app.kubernetes.io/part-of: {{ .ctx.Values.partOf | quote }}
app.kubernetes.io/managed-by: "platc"
platc.dev/environment: {{ .ctx.Values.environment | quote }}
{{- with .ctx.Values.owner }}
platc.dev/owner: {{ . | quote }}
{{- end }}
{{- range $k, $v := .extraLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{- /* Object metadata: name, namespace, labels, and the common annotations merged with the
object's own (.annotations, a dict; the object's win). */ -}}
{{- define "platc.metadata" -}}
name: {{ .name | quote }}
namespace: {{ .ctx.Values.namespace | quote }}
labels:
  {{- include "platc.labels" . | nindent 2 }}
{{- $annotations := dict }}
{{- range $k, $v := .ctx.Values.commonAnnotations }}
{{- $_ := set $annotations $k $v }}
{{- end }}
{{- range $k, $v := .annotations }}
{{- $_ := set $annotations $k $v }}
{{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- /* Pod template metadata: labels and the common annotations. */ -}}
{{- define "platc.podMetadata" -}}
labels:
  {{- include "platc.labels" . | nindent 2 }}
{{- with .ctx.Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- /* The one container of a process. Keys of the dict besides ctx: name, command (a list;
omitted when empty), env (a list; omitted when empty), resources, web (true: container ports
and probes). */ -}}
{{- define "platc.container" -}}
{{- $v := .ctx.Values -}}
- name: {{ .name | quote }}
  image: {{ printf "%s:%s" $v.image.repository $v.image.tag | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy | quote }}
  {{- with .command }}
  command:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and .web $v.containerPorts }}
  ports:
    {{- toYaml $v.containerPorts | nindent 4 }}
  {{- end }}
  {{- with .env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  {{- if .web }}
  {{- range $key := list "readinessProbe" "livenessProbe" "startupProbe" }}
  {{- /* `index`, not `.`: a probe may be null or deleted by an environment's values. */}}
  {{- $probe := index $v $key }}
  {{- if not (kindIs "invalid" $probe) }}
  {{ $key }}:
    {{- toYaml $probe | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{- /* The pod spec of a process: the container dict above plus restartPolicy ("" for none). */ -}}
{{- define "platc.podSpec" -}}
{{- $v := .ctx.Values -}}
serviceAccountName: {{ $v.serviceAccount.name | quote }}
automountServiceAccountToken: {{ $v.serviceAccount.automount }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
containers:
  {{- include "platc.container" . | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
{{- with .restartPolicy }}
restartPolicy: {{ . | quote }}
{{- end }}
{{- end }}

{{- /* One generated object, as its own YAML document: the rendered .body, with the spec's
`patch` blocks applied. platc records their effect per object as a JSON merge patch (RFC 7386)
in .Values.patches, keyed "Kind/name" (a map, or the same as a JSON string); an object without
one is printed as rendered. */ -}}
{{- define "platc.object" -}}
{{- $obj := fromYaml .body -}}
{{- $patches := index .ctx.Values "patches" | default dict -}}
{{- $patch := index $patches (printf "%s/%s" $obj.kind $obj.metadata.name) -}}
{{- if kindIs "string" $patch }}
{{- $patch = fromJson $patch -}}
{{- end }}
---
{{ if kindIs "invalid" $patch -}}
{{ .body | trim }}
{{- else -}}
{{ (include "platc.mergePatch" (dict "target" $obj "patch" $patch) | fromJson).v | toYaml }}
{{- end }}
{{- end }}

{{- /* RFC 7386 JSON merge patch of .target by .patch. Returns {"v": RESULT} as JSON, since
fromJson only reads objects. A null in the patch deletes the key; an object merges key by key;
anything else (lists included) replaces. */ -}}
{{- define "platc.mergePatch" -}}
{{- $patch := .patch -}}
{{- if kindIs "map" $patch -}}
{{- $out := dict -}}
{{- if kindIs "map" .target -}}
{{- range $k, $v := .target }}{{ $_ := set $out $k $v }}{{ end -}}
{{- end -}}
{{- range $k, $v := $patch -}}
{{- if kindIs "invalid" $v -}}
{{- $_ := unset $out $k -}}
{{- else -}}
{{- $merged := include "platc.mergePatch" (dict "target" (index $out $k) "patch" $v) | fromJson -}}
{{- $_ := set $out $k $merged.v -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "v" $out) -}}
{{- else -}}
{{- toJson (dict "v" $patch) -}}
{{- end -}}
{{- end }}

{{- /* Backing resources served in-cluster (.Values.backingResources[].inCluster): their objects
carry their own name and type instead of the service's, so that neither the service's selectors
nor its NetworkPolicy ever cover them. The dict: ctx (the root context), res (the
backingResources entry), name (the object's name), annotations (a dict, the object's own). */ -}}
{{- define "platc.resourceSelectorLabels" -}}
app.kubernetes.io/name: {{ .res.inCluster.name | quote }}
app.kubernetes.io/component: {{ .res.type | quote }}
{{- end }}

{{- define "platc.resourceLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | quote }}
{{ include "platc.resourceSelectorLabels" . }}
app.kubernetes.io/version: {{ .res.inCluster.version | quote }}
app.kubernetes.io/part-of: {{ .ctx.Values.partOf | quote }}
app.kubernetes.io/managed-by: "platc"
platc.dev/environment: {{ .ctx.Values.environment | quote }}
platc.dev/service: {{ .ctx.Values.fullname | quote }}
{{- with .ctx.Values.owner }}
platc.dev/owner: {{ . | quote }}
{{- end }}
{{- range $k, $v := .extraLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{- define "platc.resourceMetadata" -}}
name: {{ .name | quote }}
namespace: {{ .ctx.Values.namespace | quote }}
labels:
  {{- include "platc.resourceLabels" . | nindent 2 }}
{{- $annotations := dict }}
{{- range $k, $v := .ctx.Values.commonAnnotations }}
{{- $_ := set $annotations $k $v }}
{{- end }}
{{- range $k, $v := .annotations }}
{{- $_ := set $annotations $k $v }}
{{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
