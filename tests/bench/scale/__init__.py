"""Scale with data (`make bench-scale`): the four services' databases filled
with a district's years of data, then measured.

    python -m tests.bench.scale fill    --size 100k [--dir .mpp/bench-scale/100k]
    python -m tests.bench.scale measure --size 100k [--dir .mpp/bench-scale/100k]
    python -m tests.bench.scale all     --size 100k      (fill, then measure)

`fill` (tests.bench.scale.fill) starts an embedded PostgreSQL whose data
lives in the directory, migrates the four databases with the services' own
migration code and fills them with COPY, chunk by chunk; each chunk is
committed with its progress row, so a killed fill carries on where it
stopped. `measure` (tests.bench.scale.measure) starts the whole stack on that
PostgreSQL and prints each figure beside its target; the figures are kept as
JSON in the directory, and when both sizes were measured the 5M figures are
compared with the 100k ones.
"""
