"""Notify's SQL, one module per aggregate: query constants with `$n`
placeholders and small functions that run them on the caller's connection
(and so in the caller's transaction); none opens a transaction of its own."""
