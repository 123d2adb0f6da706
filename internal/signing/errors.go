package signing

// Stable error codes. The gateway puts them in the "error" field of its JSON
// answer, so they are part of the API Fly sees and must not change.
const (
	CodeMissingSignature = "missing_signature"
	CodeBadSignature     = "bad_signature"
	CodeMissingParam     = "missing_signed_params"
	CodeStaleTimestamp   = "stale_timestamp"
	CodeReplayedNonce    = "replayed_nonce"
	CodeURLMismatch      = "url_mismatch"
	CodeUnsignedParams   = "unsigned_params"
)

// Error is a rejection of the request itself (the gateway answers 401), as
// opposed to a plain error, which means Jetway failed (storage, config).
// Message is a readable sentence that Fly may show to a user: it never
// contains a secret or the signature we expected.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func reject(code, message string) *Error { return &Error{Code: code, Message: message} }
