"""Notify's use cases: each takes typed input, opens the transaction it needs
(or runs in the consumer's), writes its audit entry inside it, and refuses
with `mpp_shared.errors`; none knows HTTP. A use case that made messages or
webhook deliveries due wakes their dispatcher after the commit."""
