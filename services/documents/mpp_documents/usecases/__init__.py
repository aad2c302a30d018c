"""The documents service's use cases: each takes typed input, opens the
transaction it needs (or joins the consumer's), writes its history, audit
entry and outbox event in it, and refuses with `mpp_shared.errors`. The
timers that fire on their own (SLA clocks, pickup windows) live here too."""

# The CloudEvents `source` of every event documents writes.
SOURCE = "/mpp/documents"
