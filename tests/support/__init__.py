"""The test kit shared by the end-to-end, fault-injection and benchmark
suites: one set of fakes for the outside parties the services call, one way
to mint officers' tokens, one polling helper.

- `auth`: `token(*roles, ...)` and the `auth(*roles, ...)` header;
- `polling`: `eventually(check, ...)`, the one wait-until-true;
- `providers`: `Providers`, one pytest-httpserver standing in for the SMS
  gateway, the WhatsApp Cloud API, OPD webhook endpoints and the OTLP
  collector, with an optional SMTP server beside it;
- `otlp`: `OtlpReceiver`, the collector's spans as the tests look them up;
- `opd`: another OPD's system: `OpdEndpoint` (its webhook endpoint) and
  `OutsideReader` (its consumer group on every shared topic).
"""
