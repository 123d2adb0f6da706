package main

// The image is built FROM scratch, with no CA bundle on disk: the Fly
// Machines API and Fly's OAuth server are reached over TLS, so the binary
// carries Mozilla's roots (pinned in go.sum, the same bytes in every build).
// They are used only when the system has none: a bundle mounted at
// /etc/ssl/certs, or SSL_CERT_FILE, takes precedence.
import _ "golang.org/x/crypto/x509roots/fallback"
