// Package policies loads, decodes and validates graceful's HCL cancellation
// policies and turns them into engine.Profile values.
//
// A policy is one or more files in HCL native syntax (.hcl) or HCL JSON
// syntax (.hcl.json). Each file holds locals blocks and profile blocks; the
// language is described in docs/policy.md. Loading follows the shape of
// Terraform's configs package: one file per construct, each with a
// decodeXBlock function returning the decoded value and hcl.Diagnostics, and
// semantic validation only once decoding is clean.
//
// Most callers need only Find. The validate, fmt and profiles commands use
// Load, Policy and Builtin.
package policies
