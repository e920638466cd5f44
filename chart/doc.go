// Package chart holds the charts Ooda draws — lines over time against
// thresholds (an SLO's error ratio, its budget) and stacked bars (incidents
// per week by severity) — and renders each from one gonum/plot plot, as
// inline SVG for web pages and as PNG for Slack.
//
// The SVG is made safe to inline under a strict Content-Security-Policy
// (style-src 'self'): no style attributes or elements, no scripts, no
// external references, and it carries a title, a description and role="img"
// for screen readers. Fonts are the Liberation fonts embedded in the binary;
// nothing reads system fonts.
//
// Package chart is pure computation: it must never import net/http, Slack
// (slack-go, bot/...), storage or any other adapter of the module; callers
// fetch the data and deliver the bytes.
package chart
