{{- define "gvDetails" -}}
{{- $gv := . -}}

## {{ $gv.GroupVersionString }}

{{ $gv.Doc | trim }}
{{- if $gv.Kinds }}

| Kind | Scope | Short names | Categories | Description |
| --- | --- | --- | --- | --- |
{{- range $gv.SortedKinds }}
{{- $t := $gv.TypeForKind . }}
{{- $res := dict }}
{{- with index $t.Markers "kubebuilder:resource" }}{{ $res = index . 0 }}{{ end }}
| {{ markdownRenderTypeLink $t }} | {{ template "scope" $t }} | {{ with $res }}{{ range $i, $s := .ShortName }}{{ if $i }}, {{ end }}`{{ $s }}`{{ end }}{{ end }} | {{ with $res }}{{ range $i, $c := .Categories }}{{ if $i }}, {{ end }}`{{ $c }}`{{ end }}{{ end }} | {{ template "cellText" $t.Doc }} |
{{- end }}
{{- end }}
{{- range $gv.SortedKinds }}

{{ template "kind" ($gv.TypeForKind .) }}
{{- end }}

### Other types

The types the kinds above are made of, in alphabetical order.
{{- range $gv.SortedTypes }}
{{- if and (not .GVK) (markdownShouldRenderType .) }}

{{ template "type" . }}
{{- end }}
{{- end }}
{{- end -}}
