// Package chart holds the charts Ooda draws — lines over time against
// thresholds (an SLO's error ratio, its budget) and stacked bars (incidents
// per week by severity) — and renders each from one gonum/plot plot, as
// inline SVG for web pages and as PNG for Slack.
//
// The SVG is made safe to inline under a strict Content-Security-Policy
// (style-src 'self'): no style attributes or elements, no scripts, no
// external references, and it carries a title, a description and role="img"
// for screen readers. Text is measured and rasterised with the Liberation
// fonts compiled into the binary, so nothing reads the host's fonts; the
// SVG names Liberation Sans and its metric-compatible fallbacks (Arial,
// Helvetica) and fetches no font, since an embedded @font-face would need a
// <style> element the policy blocks.
//
// Package chart is pure computation: it must never import net/http, Slack
// (slack-go, bot/...), storage or any other adapter of the module; callers
// fetch the data and deliver the bytes.
package chart
