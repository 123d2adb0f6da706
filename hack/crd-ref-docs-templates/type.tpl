{{- /* A kind: heading, doc, resource facts, printer columns, fields, notes. */ -}}
{{- define "kind" -}}
{{- $type := . -}}
### {{ $type.Name }}

{{ $type.Doc | trim }}
{{ with index $type.Markers "kubebuilder:resource" }}{{ with index . 0 }}
- Scope: {{ template "scope" $type }}
{{- with .ShortName }}; short names: {{ range $i, $s := . }}{{ if $i }}, {{ end }}`{{ $s }}`{{ end }}{{ end }}
{{- with .Categories }}; categories: {{ range $i, $c := . }}{{ if $i }}, {{ end }}`{{ $c }}`{{ end }}{{ end }}
{{- end }}{{ else }}
- Scope: Namespaced
{{- end }}
{{- if index $type.Markers "kubebuilder:subresource:status" }}
- Subresources: `status`
{{- end }}
{{- with index $type.Markers "kubebuilder:printcolumn" }}
- Printer columns (`kubectl get`): {{ range $i, $c := . }}{{ if $i }}, {{ end }}{{ $c.Name }} (`{{ $c.JSONPath }}`){{ end }}
{{- end }}
{{- template "typeValidation" $type }}

{{ template "fieldTable" $type }}
{{- template "kindNotes" $type }}
{{- end -}}

{{- /* Any other type that a kind refers to. */ -}}
{{- define "type" -}}
{{- $type := . -}}
#### {{ $type.Name }}
{{- with $type.Doc | trim }}

{{ . }}
{{- end }}
{{- if $type.IsAlias }}

_Underlying type:_ {{ markdownRenderTypeLink $type.UnderlyingType }}
{{- end }}
{{- with $type.SortedReferences }}

_Appears in:_ {{ range $i, $r := . }}{{ if $i }}, {{ end }}{{ markdownRenderTypeLink $r }}{{ end }}
{{- end }}
{{- template "typeValidation" $type }}
{{- if $type.Members }}

{{ template "fieldTable" $type }}
{{- end }}
{{- if $type.EnumValues }}

| Value | Description |
| --- | --- |
{{- range $type.EnumValues }}
| `{{ .Name }}` | {{ template "cellText" .Doc }} |
{{- end }}
{{- end }}
{{- end -}}

{{- /* Type-level validation: markers and CEL rules on the type itself. */ -}}
{{- define "typeValidation" -}}
{{- $rules := index .Markers "kubebuilder:validation:XValidation" -}}
{{- $plain := list -}}
{{- range .Validation }}{{ if not (or (hasPrefix "Optional:" .) (hasPrefix "Required:" .)) }}{{ $plain = append $plain . }}{{ end }}{{ end -}}
{{- if or $rules $plain }}

_Validation:_
{{- range $plain }}
- {{ . }}
{{- end }}
{{- range $rules }}
- `{{ .Rule }}`{{ with .Message }}: {{ . }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "scope" -}}
{{- $scope := "Namespaced" -}}
{{- with index .Markers "kubebuilder:resource" }}{{ with (index . 0).Scope }}{{ $scope = . }}{{ end }}{{ end -}}
{{ $scope }}
{{- end -}}
