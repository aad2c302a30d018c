"""Every route of every service is either marked public or requires a role."""

from __future__ import annotations

import importlib

import pytest

from mpp_shared.auth import Role
from mpp_shared.web.auth import PUBLIC_MARKER
from tests.routes import api_routes, dependency_calls

SERVICES = ["mpp_intake", "mpp_documents", "mpp_complaints", "mpp_notify"]
# What the architecture opens to the public without a token.
EXPECTED_PUBLIC = {
    "mpp_intake": {
        "GET /v1/track/{tracking_code}",
        "GET /v1/services",
        "GET /v1/services/{code}",
        "GET /v1/pickup-points",
        # The public pages: tracking by code and the catalog.
        "GET /track",
        "GET /track/{tracking_code}",
        "GET /services",
        "GET /services/{code}",
        # Citizen sign-in with a one-time code, and its pages.
        "POST /v1/citizen/signin-codes",
        "POST /v1/citizen/sessions",
        "GET /online/masuk",
        "POST /online/masuk",
        "GET /online/kode",
        "POST /online/kode",
    },
    "mpp_documents": {
        "GET /v1/verify/{code}",
        "GET /v1/pickup-points/{code}/ready",
        # The public pages: a document's verification and the pickup boards.
        "GET /verify",
        "GET /verify/{code}",
        "GET /board/{point_code}",
    },
    "mpp_complaints": {
        "POST /v1/complaints",
        "POST /v1/complaints/{complaint_id}/closure",
        "POST /v1/complaints/{complaint_id}/reopening",
        "GET /v1/categories",
        "GET /open311/v2/services.json",
        "GET /open311/v2/services/{service_code}.json",
        "POST /open311/v2/requests.json",
        "GET /open311/v2/requests.json",
        "GET /open311/v2/requests/{service_request_id}.json",
        "GET /open311/v2/services.xml",
        "GET /open311/v2/services/{service_code}.xml",
        "POST /open311/v2/requests.xml",
        "GET /open311/v2/requests.xml",
        "GET /open311/v2/requests/{service_request_id}.xml",
        # The reporter's status by complaint code, and the public pages.
        "GET /v1/complaint-status/{complaint_code}",
        "GET /complaints/new",
        "POST /complaints/new",
        "GET /complaints/status",
        "GET /complaints/status/{code}",
        # The published questions and answers, searched before asking again.
        "GET /v1/public/questions",
        "GET /tanya-jawab",
    },
    "mpp_notify": {
        # Called by the providers, authenticated by a signature or their own token.
        "GET /v1/whatsapp/webhook",
        "POST /v1/whatsapp/webhook",
        "POST /v1/providers/sms/reports",
        "GET /v1/contract/asyncapi.json",
        "GET /v1/contract/schemas",
        "GET /v1/contract/schemas/{event_type}.json",
    },
}


@pytest.mark.parametrize("package", SERVICES)
def test_each_route_is_public_or_role_protected(package: str) -> None:
    app = importlib.import_module(f"{package}.main").create_app()
    public: set[str] = set()
    routes = api_routes(app.routes)
    assert len(routes) >= 2
    for route in routes:
        calls = dependency_calls(route.dependant)
        if route.path.startswith("/health") or route.path == "/metrics":
            # Probes and the scrape: open on every service, for the internal network.
            assert PUBLIC_MARKER in calls, route.path
            continue
        is_public = PUBLIC_MARKER in calls
        needs_role = any(hasattr(c, "required_roles") for c in calls)
        label = f"{sorted(route.methods or ())[0]} {route.path}"
        assert is_public != needs_role, f"{label}: must be exactly one of public or role-protected"
        if is_public:
            public.add(label)
    assert public == EXPECTED_PUBLIC[package]


@pytest.mark.parametrize("package", SERVICES)
def test_every_service_shows_its_audit_trail_to_supervisors_only(package: str) -> None:
    app = importlib.import_module(f"{package}.main").create_app()
    routes = [r for r in api_routes(app.routes) if r.path == "/v1/audit"]
    assert [sorted(r.methods or ()) for r in routes] == [["GET"]]
    roles = [
        c.required_roles
        for c in dependency_calls(routes[0].dependant)
        if hasattr(c, "required_roles")
    ]
    assert roles == [frozenset({Role.SUPERVISOR, Role.ADMIN})]
    assert PUBLIC_MARKER not in dependency_calls(routes[0].dependant)


def test_catalog_changes_are_for_admins_only() -> None:
    app = importlib.import_module("mpp_intake.main").create_app()
    writes = [
        r
        for r in api_routes(app.routes)
        if r.path.startswith(("/v1/services", "/v1/pickup-points"))
        and (r.methods or set()) - {"GET", "HEAD"}
    ]
    assert writes, "the catalog can be changed through the API"
    for route in writes:
        calls = dependency_calls(route.dependant)
        roles = [c.required_roles for c in calls if hasattr(c, "required_roles")]
        assert roles == [frozenset({Role.ADMIN})], route.path
