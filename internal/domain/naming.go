// Naming derives every name Jetway gives to Kubernetes objects and Fly
// resources from the ids Fly sends. Names are deterministic so that a retried
// request or a restarted controller finds what an earlier attempt created
// instead of creating it again.

package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Hash returns a short, stable, lowercase hex digest of s. Ten hex digits
// (40 bits) keep names short while making accidental collisions between the
// ids of one provider vanishingly unlikely.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// sanitize lowercases s and replaces everything outside [a-z0-9] with '-',
// collapsing runs and trimming dashes, then cuts it to max characters.
func sanitize(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= max {
			break
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return strings.Trim(out, "-")
}

// join builds "<prefix>-<readable>-<hash>" with the readable part cut so the
// whole fits in max characters. The hash, taken over the original id, keeps
// ids that differ only in case or punctuation apart.
func join(prefix, id string, max int) string {
	h := Hash(id)
	room := max - len(prefix) - len(h) - 2
	readable := sanitize(id, room)
	if readable == "" {
		return prefix + "-" + h
	}
	return prefix + "-" + readable + "-" + h
}

// OrganizationName is the cluster-scoped Organization object's name for a
// Fly organization id.
func OrganizationName(flyOrgID string) string { return join("org", flyOrgID, 63) }

// Namespace is the namespace that holds a Fly organization's extensions.
func Namespace(flyOrgID string) string { return join("fly", flyOrgID, 63) }

// ExtensionName is the Extension object's name for a Fly extension id.
func ExtensionName(flyID string) string { return join("ext", flyID, 63) }

// UsageLedgerName is the UsageLedger of the extension with Fly id flyID,
// in its organization's namespace. It is named by the Fly id, not by the
// Extension object, so that it outlives the object and a GitOps-named
// Extension meters into the same ledger as a gateway-made one would.
func UsageLedgerName(flyID string) string { return join("usage", flyID, 63) }

// AppName is the Fly app that runs an extension. Fly app names are global,
// lowercase and at most 63 characters; prefix names the provider.
func AppName(prefix, flyID string) string {
	return join(sanitize(prefix, 20), flyID, 50)
}

// CredentialsSecretName is the Secret holding an extension's credentials.
func CredentialsSecretName(extensionObjectName string) string {
	return extensionObjectName + "-credentials"
}

// NameClaimLease is the Lease through which one Fly id holds an extension
// name (see ClaimName). It is named after the name's DNS
// label, which is what must be unique, hashed to keep it a valid name.
func NameClaimLease(extensionName string) string {
	return "extension-name-" + Hash(DNSLabel(extensionName))
}

// DNSEndpointName is the DNSEndpoint carrying an extension's record.
func DNSEndpointName(extensionObjectName string) string {
	return extensionObjectName + "-dns"
}

// DNSLabel turns an extension name into one DNS label (≤ 63 characters).
func DNSLabel(name string) string {
	l := sanitize(name, 63)
	if l == "" {
		return "ext-" + Hash(name)
	}
	return l
}

// UniqueName is the attempt-th name an extension with Fly id id gets when
// name is taken and its plan renames on conflict: name's DNS label cut to
// leave room for a suffix made from the id and the attempt, so it stays one
// DNS label and every repeat of the request makes the same names.
func UniqueName(name, id string, attempt int) string {
	suffix := "-" + Hash(id + "/" + strconv.Itoa(attempt))[:6]
	base := DNSLabel(name)
	if len(base) > 63-len(suffix) {
		base = strings.TrimRight(base[:63-len(suffix)], "-")
	}
	return base + suffix
}

// DNSName is the extension's DNS name in zone.
func DNSName(extensionName, zone string) string {
	return DNSLabel(extensionName) + "." + strings.Trim(zone, ".")
}
