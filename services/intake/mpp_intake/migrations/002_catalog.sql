-- Service catalog (versioned) and pickup points. Seed rows follow in 003.
CREATE TABLE catalog_services (
    code            text        PRIMARY KEY,
    current_version int         NOT NULL,
    active          boolean     NOT NULL DEFAULT true
);

-- Every change is a new version; an application keeps the version it was
-- submitted under.
CREATE TABLE catalog_service_versions (
    code          text        NOT NULL REFERENCES catalog_services (code),
    version       int         NOT NULL,
    name_id       text        NOT NULL,
    name_en       text        NOT NULL,
    opd           text        NOT NULL,          -- issuing office, e.g. DISDUKCAPIL
    fee_idr       int         NOT NULL DEFAULT 0,
    sla_amount    int         NOT NULL,
    sla_unit      text        NOT NULL CHECK (sla_unit IN ('working_days', 'working_hours')),
    pickup_points text[]      NOT NULL,
    channels      text[]      NOT NULL,
    -- [{"code", "name_id", "name_en", "mandatory": bool,
    --   "any_of": [{"code", "name_id", "name_en"}, ...]   (optional alternatives)}]
    requirements  jsonb       NOT NULL,
    created_by    text        NOT NULL DEFAULT 'seed',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, version)
);

CREATE TABLE pickup_points (
    code            text    PRIMARY KEY,
    name            text    NOT NULL,
    kind            text    NOT NULL CHECK (kind IN ('mpp', 'dukcapil', 'kecamatan')),
    region_code     text    NOT NULL,            -- 4 digits (regency) or 6 (kecamatan)
    address         text    NOT NULL,
    -- {"mon": ["08:00", "15:00"], ..., "fri": ["08:00", "11:00"], "sat": null, "sun": null}
    opening_hours   jsonb   NOT NULL,
    daily_capacity  int     NOT NULL,
    -- kecamatan (6-digit region codes) for which this point is the nearest
    serves_regions  text[]  NOT NULL DEFAULT '{}'
);
