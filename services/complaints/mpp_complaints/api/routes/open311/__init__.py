"""Open311 GeoReport v2 facade (https://wiki.open311.org/GeoReport_v2/).

Other systems (LAPOR! liaison, city apps, dashboards) list the complaint
categories as services (`services`), file complaints and follow them
(`requests`), in the shapes the specification fixes (`format`, declared in
`schemas`). Only public facts are shown: never the reporter's contact, the
linked tracking code or a confidential complaint.

Errors are Open311 error lists (`mpp_complaints.api.errors`) with the same
HTTP status: 400 missing or malformed field, 403 bad api_key, 404 unknown
service_code or request, 429 too many filings (with Retry-After).
"""
