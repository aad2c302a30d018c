"""Intake's SQL, one module per aggregate: query constants with `$n`
placeholders and small functions taking a connection (or the pool, for a
single read). They run inside the caller's transaction and open none."""
