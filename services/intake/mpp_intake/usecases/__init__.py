"""Intake's use cases: each opens its own transaction (or runs in the one a
caller hands it, said in its docstring), writes the audit entry and the
outbox event inside it, and answers with a model of its own. Refusals are
`mpp_shared.errors`; no use case knows HTTP."""
