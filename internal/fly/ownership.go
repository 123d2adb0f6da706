package fly

// What marks a Fly resource as a Jetway extension's. Adoption and teardown
// (the Extension controller) and the orphan sweeper decide ownership by these
// same rules, so they cannot disagree about whose an app is.

// App secrets every machine of an extension reads as environment variables.
const (
	SecretUsername = "JETWAY_USERNAME"
	SecretPassword = "JETWAY_PASSWORD"
	// SecretPreviousPassword is the password a rotation replaced, set
	// while both are valid, so the machines accept either.
	SecretPreviousPassword = "JETWAY_PREVIOUS_PASSWORD"
)

// HasCredentialSecrets reports whether both credential secrets are set.
func HasCredentialSecrets(secrets []Secret) bool {
	have := map[string]bool{}
	for _, s := range secrets {
		have[s.Name] = true
	}
	return have[SecretUsername] && have[SecretPassword]
}

// MetadataOf is the machine's metadata value for key, or "".
func MetadataOf(m *Machine, key string) string {
	if m.Config == nil {
		return ""
	}
	return m.Config.Metadata[key]
}

// ForeignMachine returns the first machine that does not carry extension id
// flyID, or nil. One such machine makes an app someone else's.
func ForeignMachine(machines []*Machine, flyID string) *Machine {
	for _, m := range machines {
		if MetadataOf(m, MetaExtension) != flyID {
			return m
		}
	}
	return nil
}
