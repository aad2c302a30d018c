"""The complaints service's use cases: each opens its own transaction (or
runs in the one it is given), writes its audit entry and events inside it,
and refuses with `mpp_shared.errors`; none knows HTTP."""
