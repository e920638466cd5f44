package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Slack's request-signing headers.
const (
	headerSlackSignature = "X-Slack-Signature"
	headerSlackTimestamp = "X-Slack-Request-Timestamp"
)

// MaxRequestAge is how far a signed request's timestamp may be from now,
// in either direction, before it is refused as a possible replay.
const MaxRequestAge = 5 * time.Minute

// Why VerifyRequest refused a request. Test them with errors.Is.
var (
	// ErrMissingSignature means the signature or timestamp header is absent.
	ErrMissingSignature = errors.New("slack request: missing X-Slack-Signature or X-Slack-Request-Timestamp")
	// ErrStaleTimestamp means the timestamp is more than MaxRequestAge away
	// from now, or is not a Unix time at all.
	ErrStaleTimestamp = errors.New("slack request: timestamp outside the 5-minute window")
	// ErrBadSignature means the signature does not match the body.
	ErrBadSignature = errors.New("slack request: signature does not match")
	// ErrNoSigningSecret means Ooda was started without a signing secret,
	// so nothing can be verified and everything is refused.
	ErrNoSigningSecret = errors.New("slack request: no signing secret configured")
)

// VerifyRequest checks that body came from Slack: the v0 signature in
// header is the HMAC-SHA256, keyed with secret, of
// "v0:{X-Slack-Request-Timestamp}:{body}", and the timestamp is within
// MaxRequestAge of now. The comparison takes the same time whatever the
// signature, so it leaks nothing about the expected one. The errors say
// which check failed and never include the body or the secret.
func VerifyRequest(secret string, header http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return ErrNoSigningSecret
	}
	sig, ts := header.Get(headerSlackSignature), header.Get(headerSlackTimestamp)
	if sig == "" || ts == "" {
		return ErrMissingSignature
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not a Unix time", ErrStaleTimestamp, ts)
	}
	if age := now.Sub(time.Unix(secs, 0)); age > MaxRequestAge || age < -MaxRequestAge {
		return fmt.Errorf("%w: signed %s ago", ErrStaleTimestamp, age.Round(time.Second))
	}
	if !hmac.Equal([]byte(sig), []byte(signature(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// SignRequest sets the headers Slack would send with body at time at. The
// demo and tests use it to drive the real handlers with signed requests.
func SignRequest(header http.Header, secret string, at time.Time, body []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	header.Set(headerSlackTimestamp, ts)
	header.Set(headerSlackSignature, signature(secret, ts, body))
}

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}
