{{- /* The field table of a struct type. */ -}}
{{- define "fieldTable" -}}
{{- $type := . -}}
| Field | Type | Description | Validation |
| --- | --- | --- | --- |
{{- if $type.GVK }}
| `apiVersion` | string | `{{ $type.GVK.Group }}/{{ $type.GVK.Version }}` | **required** |
| `kind` | string | `{{ $type.GVK.Kind }}` | **required** |
{{- end }}
{{- range $type.Members }}
{{ template "fieldRow" (dict "field" . "root" (not (not $type.GVK))) }}
{{- end }}
{{- end -}}

{{- /*
  One field: name, type, doc, then what the CRD schema enforces, read from
  the field's markers (crd-ref-docs copies a type's markers onto the fields
  of that type; rules that belong to the field's own type are left to that
  type's section).
*/ -}}
{{- define "fieldRow" -}}
{{- $f := .field -}}
{{- $m := $f.Markers -}}
{{- $v := "kubebuilder:validation:" -}}
{{- $notes := list -}}
{{- /* Required unless marked optional; on a kind, metadata and status are
       omitempty and so optional too (controller-gen's rule). */ -}}
{{- $optional := or (index $m "optional") (index $m (print $v "Optional")) (index $m "k8s:optional") (and .root (has $f.Name (list "metadata" "status"))) -}}
{{- if or (index $m "required") (index $m (print $v "Required")) (index $m "k8s:required") (not $optional) }}{{ $notes = append $notes "**required**" }}{{ end -}}
{{- $typeRules := list -}}
{{- if $f.Type }}{{ range index $f.Type.Markers (print $v "XValidation") }}{{ $typeRules = append $typeRules .Rule }}{{ end }}{{ end -}}
{{- $rules := list -}}
{{- range index $m (print $v "XValidation") }}
{{- if eq .Rule "self == oldSelf" }}{{ $notes = append $notes "**immutable**" }}
{{- else if not (has .Rule $typeRules) }}{{ $rules = append $rules (printf "rule `%s`%s" .Rule (ternary (printf ": %s" .Message) "" (ne .Message ""))) }}{{ end }}
{{- end -}}
{{- with index $m "kubebuilder:default" }}{{ $d := (index . 0).Value }}{{ $notes = append $notes (printf "default `%s`" (ternary $d (toJson $d) (kindIs "string" $d))) }}{{ end -}}
{{- with index $m (print $v "Enum") }}{{ $vals := list }}{{ range index . 0 }}{{ $vals = append $vals (printf "`%v`" .) }}{{ end }}{{ $notes = append $notes (printf "one of %s" (join ", " $vals)) }}{{ end -}}
{{- $min := index $m (print $v "Minimum") -}}{{- $max := index $m (print $v "Maximum") -}}
{{- if and $min $max }}{{ $notes = append $notes (printf "%v–%v" (index $min 0) (index $max 0)) }}
{{- else if $min }}{{ $notes = append $notes (printf "≥ %v" (index $min 0)) }}
{{- else if $max }}{{ $notes = append $notes (printf "≤ %v" (index $max 0)) }}{{ end -}}
{{- $minL := index $m (print $v "MinLength") -}}{{- $maxL := index $m (print $v "MaxLength") -}}
{{- if and $minL $maxL }}{{ $notes = append $notes (printf "length %v–%v" (index $minL 0) (index $maxL 0)) }}
{{- else if $minL }}{{ $notes = append $notes (printf "length ≥ %v" (index $minL 0)) }}
{{- else if $maxL }}{{ $notes = append $notes (printf "length ≤ %v" (index $maxL 0)) }}{{ end -}}
{{- with index $m (print $v "MinItems") }}{{ $notes = append $notes (printf "at least %v items" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "MaxItems") }}{{ $notes = append $notes (printf "at most %v items" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "MinProperties") }}{{ $notes = append $notes (printf "at least %v entries" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "MaxProperties") }}{{ $notes = append $notes (printf "at most %v entries" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "Pattern") }}{{ $notes = append $notes (printf "matches `%v`" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "items:Pattern") }}{{ $notes = append $notes (printf "each item matches `%v`" (index . 0)) }}{{ end -}}
{{- with index $m (print $v "Format") }}{{ $notes = append $notes (printf "format `%v`" (index . 0)) }}{{ end -}}
{{- /* Any other validation marker, as crd-ref-docs words it. */ -}}
{{- $shown := list "Optional" "Required" "XValidation" "Enum" "Minimum" "Maximum" "MinLength" "MaxLength" "MinItems" "MaxItems" "MinProperties" "MaxProperties" "Pattern" "items:Pattern" "Format" -}}
{{- range $f.Validation }}{{ if not (has (index (splitList ":" .) 0) $shown) }}{{ if not (hasPrefix "items:Pattern:" .) }}{{ $notes = append $notes . }}{{ end }}{{ end }}{{ end -}}
{{- $notes = concat $notes $rules -}}
{{- with index $m "listType" }}{{ $lt := print (index . 0) }}
{{- if eq $lt "set" }}{{ $notes = append $notes "set (no duplicates)" }}
{{- else if eq $lt "map" }}{{ with index $m "listMapKey" }}{{ $keys := list }}{{ range . }}{{ $keys = append $keys (printf "`%v`" .) }}{{ end }}{{ $notes = append $notes (printf "keyed by %s" (join ", " $keys)) }}{{ end }}
{{- else }}{{ $notes = append $notes (printf "list type `%s`" $lt) }}{{ end }}
{{- end -}}
{{- if index $m "kubebuilder:pruning:PreserveUnknownFields" }}{{ $notes = append $notes "any JSON, kept as is" }}{{ end -}}
| `{{ $f.Name }}` | {{ markdownRenderType $f.Type }} | {{ if eq $f.Name "metadata" }}Standard Kubernetes object metadata.{{ else }}{{ template "cellText" $f.Doc }}{{ end }} | {{ template "cellText" (join "<br>" $notes) }} |
{{- end -}}

{{- /* Text inside a table cell: reflow wrapped doc comments into one line,
       keep paragraph breaks, and escape the pipe that would split the cell. */ -}}
{{- define "cellText" -}}
{{- . | trim | replace "|" "\\|" | replace "\n\n" "<br><br>" | replace "\n" " " -}}
{{- end -}}
