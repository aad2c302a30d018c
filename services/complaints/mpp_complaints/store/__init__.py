"""The complaints service's SQL, one module per aggregate: query constants
with $n placeholders and small functions taking the caller's connection.
None opens a transaction: the use case that calls them owns it."""
