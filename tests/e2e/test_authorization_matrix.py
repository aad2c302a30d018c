"""Every route of every running service refuses a caller it must not serve.

The routes are enumerated from the services' FastAPI apps (the same code the
running processes serve), cross-checked against each running service's
/openapi.json, and their allowed roles read from their `require_roles(...)`
dependency (`required_roles`). Each non-public (service, method, path) is
then called over real HTTP on the end-to-end stack with:

- no token, a garbage token, a token signed with another secret, an expired
  one, an unsigned (alg "none") one and one from another issuer: 401, each
  bad token carrying every role, so the defect alone is refused;
- a valid token holding every role NOT allowed on the route, and one holding
  no role at all: 403.

Every check runs on both kinds of token (`kind`): the HS256 development
tokens and those of the district's identity provider (tests.support.oidc,
whose JWKS the stack trusts). The provider's kind adds its own defects: a
token for another service (audience), one naming a key the provider does
not publish (unknown `kid`), one signed by another key under a published
`kid`, and an HS256 one naming the provider as issuer.

The bad callers of one route are asked together (one test per route and
kind of token). Refusals are exactly 401/403 (never 5xx, never 404/422: path parameters are
syntactically valid and write routes get a minimal JSON body, so the request
would reach its handler), and carry nothing but the refusal itself.

The complaints' work queue gets its own checks at the end: exactly the
complaint officers, supervisors, admins and OPD systems list it; an OPD's
system never sees another OPD's complaint (404 on every route it may call,
absent from its list), reads nothing with a token naming no OPD (403), and
never reads an anonymous reporter's identity on its own.

Public routes (PUBLIC marker, matching EXPECTED_PUBLIC of
tests/unit/test_route_protection.py, plus the health probes) are listed and
left out; FastAPI's own /openapi.json and /docs pages are no APIRoutes and
public by design.
"""

from __future__ import annotations

import asyncio
import importlib
import time
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from mpp_devstack.stack import SERVICES, Stack
from mpp_shared import codes
from mpp_shared.auth import Role, mint_token
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.web.auth import PUBLIC_MARKER
from tests.routes import api_routes, dependency_calls
from tests.support.auth import DEFAULT_COUNTER, token
from tests.support.identities import email, phone
from tests.support.oidc import Provider, SigningKey
from tests.unit.test_route_protection import EXPECTED_PUBLIC

WRITE_METHODS = {"POST", "PUT", "PATCH"}
REFUSAL_CODES = {401: "unauthorized", 403: "forbidden"}
ALL_ROLES = frozenset(Role)
KINDS = ("dev", "oidc")


@dataclass(frozen=True)
class Tokens:
    """Mints the tokens of one kind for one service."""

    kind: str
    provider: Provider

    def __call__(
        self,
        service: str,
        *roles: str,
        subject: str = "matrix-probe",
        counter: str | None = DEFAULT_COUNTER,
        opd: str | None = None,
    ) -> str:
        if self.kind == "dev":
            return token(*roles, subject=subject, counter=counter, opd=opd)
        return self.provider.token(
            *roles, audience=f"mpp-{service}", subject=subject, counter=counter, opd=opd
        )


@pytest.fixture(params=KINDS)
def tokens(request: pytest.FixtureRequest, oidc_provider: Provider) -> Tokens:
    return Tokens(request.param, oidc_provider)


@dataclass(frozen=True)
class RouteCase:
    service: str
    method: str
    path: str  # the route's template as /openapi.json shows it (no `:uuid` convertors)
    route_path: str  # the template as declared, e.g. /v1/applications/{application_id:uuid}
    url_path: str  # the template filled with syntactically valid values
    allowed: frozenset[Role] | None  # None: public
    in_schema: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


# Syntactically valid path values, by parameter name (and, for `code`, by the
# resource it names); uuids and Literal parameters are filled by type.
_CODE_BY_RESOURCE = {
    "services": "ktp_el",
    "categories": "pelayanan",
    "pickup-points": "MPP",
    "verify": codes.new_code(10, prefix="V"),
}
_STR_VALUES = {
    "tracking_code": codes.new_code(10),
    "number_or_id": "MPP-KTP-2025-000001",
    "event_type": "mpp.application.submitted.v1",
    "service_code": "ktp_el",
    "service_request_id": codes.new_code(10, prefix="P"),
}


def _path_value(route: APIRoute, name: str, annotation: Any) -> str:
    if annotation is uuid.UUID:
        return str(uuid.uuid4())
    if typing.get_origin(annotation) is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if name == "code":
        segments = route.path_format.split("/")
        resource = segments[segments.index("{code}") - 1]
        return _CODE_BY_RESOURCE.get(resource, "MPP")
    return _STR_VALUES.get(name, "TEST-1")


def _allowed_roles(route: APIRoute) -> frozenset[Role] | None:
    calls = dependency_calls(route.dependant)
    if PUBLIC_MARKER in calls:
        return None
    required = [c.required_roles for c in calls if hasattr(c, "required_roles")]
    assert required, f"{route.path}: neither public nor role-protected"
    # Several require_roles dependencies on one route: each must admit the caller.
    allowed: frozenset[Role] = frozenset.intersection(*required)
    return allowed


def _service_app(service: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"mpp_{service}.main").app
    return app


def _route_cases(service: str) -> list[RouteCase]:
    cases = []
    for route in api_routes(_service_app(service).routes):
        values = {
            param.name: _path_value(route, param.name, param.field_info.annotation)
            for param in route.dependant.path_params
        }
        url_path = route.path_format.format(**values)
        allowed = _allowed_roles(route)
        for method in sorted(route.methods or ()):
            cases.append(
                RouteCase(
                    service,
                    method,
                    route.path_format,
                    route.path,
                    url_path,
                    allowed,
                    route.include_in_schema,
                )
            )
    return cases


ROUTES = {service: _route_cases(service) for service in SERVICES}


def _is_public(case: RouteCase) -> bool:
    return case.allowed is None


# --- the bad callers -------------------------------------------------------


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "matrix-probe",
        "roles": sorted(ALL_ROLES),
        "iss": "mpp",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


BadToken = Callable[[RouteCase, Provider], dict[str, str]]

BAD_TOKENS: dict[str, Callable[[], dict[str, str]]] = {
    "no_token": dict,
    "garbage_token": lambda: _bearer("not-a-token"),
    "wrong_signature": lambda: _bearer(
        mint_token("another-secret-" + "x" * 32, subject="matrix-probe", roles=sorted(ALL_ROLES))
    ),
    "expired_token": lambda: _bearer(
        mint_token(DEV_JWT_SECRET, subject="matrix-probe", roles=sorted(ALL_ROLES), ttl_seconds=-60)
    ),
    "unsigned_token": lambda: _bearer(jwt.encode(_claims(), None, algorithm="none")),  # type: ignore[arg-type]
    "wrong_issuer": lambda: _bearer(jwt.encode(_claims(iss="not-mpp"), DEV_JWT_SECRET)),
}


def _oidc(case: RouteCase, provider: Provider, **changes: Any) -> dict[str, str]:
    """A provider's token carrying every role, with one defect in `changes`."""
    values: dict[str, Any] = {"audience": f"mpp-{case.service}", "subject": "matrix-probe"}
    values.update(changes)
    return _bearer(provider.token(*sorted(ALL_ROLES), **values))


def _other_service(case: RouteCase) -> str:
    return next(s for s in SERVICES if s != case.service)


def _provider_claims(case: RouteCase, provider: Provider) -> dict[str, Any]:
    return _claims(iss=provider.issuer, aud=f"mpp-{case.service}")


# Made once: key generation is the slow part of a token.
IMPOSTOR = SigningKey.generate("RS256")
STRANGER = SigningKey.generate("ES256")


OIDC_BAD_TOKENS: dict[str, BadToken] = {
    "no_token": lambda _c, _p: {},
    "garbage_token": lambda _c, _p: _bearer("not-a-token"),
    "wrong_signature": lambda c, p: _oidc(
        c, p, key=SigningKey(p.keys["RS256"].kid, "RS256", IMPOSTOR.private)
    ),
    "expired_token": lambda c, p: _oidc(c, p, ttl_seconds=-600),
    "unsigned_token": lambda c, p: _bearer(
        jwt.encode(
            _provider_claims(c, p),
            None,  # type: ignore[arg-type]  # the "none" algorithm signs with no key
            algorithm="none",
            headers={"kid": p.keys["RS256"].kid},
        )
    ),
    "wrong_issuer": lambda c, p: _oidc(c, p, issuer=p.issuer + "-elsewhere"),
    "wrong_audience": lambda c, p: _oidc(c, p, audience=f"mpp-{_other_service(c)}"),
    "unknown_kid": lambda c, p: _oidc(c, p, alg="ES256", key=STRANGER),
    "hs256_as_the_provider": lambda c, p: _bearer(
        jwt.encode(_provider_claims(c, p), DEV_JWT_SECRET, algorithm="HS256")
    ),
}


@dataclass(frozen=True)
class Leg:
    name: str
    expected: int
    headers: Callable[[RouteCase, Tokens], dict[str, str]]


def _wrong_roles(case: RouteCase) -> list[str]:
    assert case.allowed is not None
    return sorted(ALL_ROLES - case.allowed)


def _bad_token(make: Callable[[], dict[str, str]]) -> Callable[[RouteCase, Tokens], dict[str, str]]:
    return lambda _case, _tokens: make()


def _bad_oidc_token(make: BadToken) -> Callable[[RouteCase, Tokens], dict[str, str]]:
    return lambda case, tokens: make(case, tokens.provider)


def _legs(kind: str) -> list[Leg]:
    if kind == "dev":
        legs = [Leg(name, 401, _bad_token(make)) for name, make in BAD_TOKENS.items()]
    else:
        legs = [Leg(name, 401, _bad_oidc_token(make)) for name, make in OIDC_BAD_TOKENS.items()]
    legs.append(
        Leg(
            "wrong_role",
            403,
            lambda case, tokens: _bearer(tokens(case.service, *_wrong_roles(case))),
        )
    )
    legs.append(
        Leg("no_role", 403, lambda case, tokens: _bearer(tokens(case.service, counter=None)))
    )
    return legs


def _params() -> list[Any]:
    return [
        pytest.param(kind, case, id=f"{kind}-{service}-{case.method}-{case.path}")
        for service, cases in ROUTES.items()
        for case in cases
        if not _is_public(case)
        for kind in KINDS
    ]


def _route_legs(case: RouteCase, kind: str) -> list[Leg]:
    # A route every role may call has no wrong role to try.
    return [leg for leg in _legs(kind) if leg.name != "wrong_role" or _wrong_roles(case)]


async def _refusal_problem(
    http: httpx.AsyncClient, case: RouteCase, url: str, leg: Leg, headers: dict[str, str]
) -> str | None:
    """What is wrong with the route's answer to `leg`, or None."""
    body: dict[str, Any] | None = {} if case.method in WRITE_METHODS else None
    answer = await http.request(case.method, url, headers=headers, json=body)
    where = f"{leg.name}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code != leg.expected:
        return where
    # The refusal and nothing else: no record, no list, no partial answer.
    refusal = answer.json()
    if not (set(refusal) <= {"code", "detail"} and isinstance(refusal.get("detail"), str)):
        return where
    if refusal.get("code", REFUSAL_CODES[leg.expected]) != REFUSAL_CODES[leg.expected]:
        return where
    if leg.expected == 401:
        if answer.headers.get("www-authenticate") != "Bearer":
            return f"{where} without WWW-Authenticate: Bearer"
    # The running service demands exactly the roles introspected from its code.
    elif case.allowed is None or not refusal["detail"].endswith(
        "needs " + " or ".join(sorted(case.allowed))
    ):
        return where
    return None


@pytest.mark.parametrize(("kind", "case"), _params())
async def test_route_refuses_the_caller(
    kind: str,
    case: RouteCase,
    stack: Stack,
    http: httpx.AsyncClient,
    oidc_provider: Provider,
) -> None:
    """Every bad caller of one route, on one kind of token, asked at once."""
    url = stack.services[case.service].url + case.url_path
    tokens = Tokens(kind, oidc_provider)
    legs = _route_legs(case, kind)
    problems = await asyncio.gather(
        *(_refusal_problem(http, case, url, leg, leg.headers(case, tokens)) for leg in legs)
    )
    found = [p for p in problems if p is not None]
    assert not found, f"{case.service} {case.label} with {kind} tokens:\n" + "\n".join(found)
    assert {leg.name for leg in legs} >= set(BAD_TOKENS)


# --- the enumeration itself -------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_the_matrix_covers_every_route_the_running_service_documents(
    service: str, stack: Stack, http: httpx.AsyncClient
) -> None:
    document = (await http.get(f"{stack.services[service].url}/openapi.json")).json()
    documented = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    }
    enumerated = {c.label for c in ROUTES[service]}
    assert documented, f"{service} documents no route"
    assert documented - enumerated == set(), "documented routes the matrix does not know"
    in_schema = {c.label for c in ROUTES[service] if c.in_schema}
    assert in_schema - documented == set(), "the running service lacks routes of its code"
    tested = {c.label for c in ROUTES[service] if not _is_public(c)}
    assert len(tested) >= 3


@pytest.mark.parametrize("service", SERVICES)
def test_public_routes_are_the_expected_ones_and_left_out(service: str) -> None:
    # Labelled as the unit test labels them: by the declared template.
    public = {f"{c.method} {c.route_path}" for c in ROUTES[service] if _is_public(c)}
    # The probes and the scrape: open on every service.
    health = {"GET /health/live", "GET /health/ready", "GET /metrics"}
    assert public == EXPECTED_PUBLIC[f"mpp_{service}"] | health


# --- the complaints' work queue and what an OPD may see ----------------------

QUEUE = "GET /v1/complaints"
QUEUE_ROLES = frozenset({Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.OPD_SYSTEM})
REPORTER_NAME = "Bambang Sutrisno"


def _opd_token(tokens: Tokens, opd: str | None) -> dict[str, str]:
    return _bearer(tokens("complaints", "opd_system", subject="matrix-opd", counter=None, opd=opd))


def _opd_routes() -> list[RouteCase]:
    """The routes on one complaint an OPD's system may call, read from the code."""
    return [
        c
        for c in ROUTES["complaints"]
        if c.allowed is not None and Role.OPD_SYSTEM in c.allowed and "{complaint_id}" in c.path
    ]


def test_the_queue_and_the_opd_routes_are_those_the_matrix_checks() -> None:
    [queue] = [c for c in ROUTES["complaints"] if c.label == QUEUE]
    assert queue.allowed == QUEUE_ROLES
    assert {c.label for c in _opd_routes()} == {
        "GET /v1/complaints/{complaint_id}",
        "POST /v1/complaints/{complaint_id}/progress",
        "POST /v1/complaints/{complaint_id}/response",
    }


@pytest.mark.parametrize("role", sorted(ALL_ROLES), ids=lambda r: r.value)
async def test_the_complaint_queue_admits_exactly_its_roles(
    role: Role, tokens: Tokens, stack: Stack, http: httpx.AsyncClient
) -> None:
    opd = "DISDUKCAPIL" if role is Role.OPD_SYSTEM else None
    headers = _bearer(tokens("complaints", role.value, opd=opd))
    answer = await http.get(f"{stack.services['complaints'].url}/v1/complaints", headers=headers)
    if role not in QUEUE_ROLES:
        assert answer.status_code == 403, answer.text
        assert set(answer.json()) == {"code", "detail"}
        return
    assert answer.status_code == 200, answer.text
    queue = answer.json()
    assert {"items", "total", "page", "page_size", "counts"} <= set(queue)
    if role is Role.OPD_SYSTEM:  # only its own OPD's complaints
        assert {i["opd"] for i in queue["items"]} <= {"DISDUKCAPIL"}


def _body_for(case: RouteCase) -> dict[str, Any] | None:
    if case.method not in WRITE_METHODS:
        return None
    return {"text": "Jawaban dari OPD lain"} if case.path.endswith("/response") else {}


async def test_an_opd_never_sees_another_opds_complaint_nor_an_anonymous_reporter(
    tokens: Tokens, stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.services["complaints"].url
    reporter_phone, reporter_email = phone(), email("matriks")
    filed = await http.post(
        f"{url}/v1/complaints",
        json={
            "description": "Petugas meminta imbalan untuk mempercepat berkas",
            "category": "pungli",  # INSPEKTORAT's
            "anonymous": True,
            "reporter_name": REPORTER_NAME,
            "phone": reporter_phone.typed,
            "email": reporter_email,
        },
    )
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    officer = _bearer(tokens("complaints", "complaint_officer", subject="matrix-officer"))
    for action, body in (("verification", {"decision": "verified"}), ("assignment", {})):
        moved = await http.post(f"{url}/v1/complaints/{cid}/{action}", json=body, headers=officer)
        assert moved.status_code == 200, moved.text
    identity = (
        REPORTER_NAME,
        "Bambang",
        reporter_phone.typed,
        reporter_phone.e164,
        reporter_phone.international,
        reporter_email,
    )

    # Another OPD: the complaint does not exist for it, on every route it may call.
    for case in _opd_routes():
        answer = await http.request(
            case.method,
            url + case.path.format(complaint_id=cid),
            json=_body_for(case),
            headers=_opd_token(tokens, "DISDUKCAPIL"),
        )
        assert answer.status_code == 404, (case.label, answer.text)
        assert set(answer.json()) == {"code", "detail"}, case.label
    others = await http.get(
        f"{url}/v1/complaints",
        params={"category": "pungli", "page_size": 200},
        headers=_opd_token(tokens, "DISDUKCAPIL"),
    )
    assert others.status_code == 200, others.text
    assert cid not in {i["id"] for i in others.json()["items"]}
    assert {i["opd"] for i in others.json()["items"]} <= {"DISDUKCAPIL"}

    # An OPD system's token naming no OPD reads nothing at all.
    for case in [c for c in ROUTES["complaints"] if c.label == QUEUE] + _opd_routes():
        answer = await http.request(
            case.method,
            url + case.path.format(complaint_id=cid),
            json=_body_for(case),
            headers=_opd_token(tokens, None),
        )
        assert answer.status_code == 403, (case.label, answer.text)

    # Its own OPD reads and lists it, never with the reporter's identity.
    own = _opd_token(tokens, "INSPEKTORAT")
    read = await http.get(f"{url}/v1/complaints/{cid}", headers=own)
    assert read.status_code == 200 and read.json()["anonymous"] is True, read.text
    listed = await http.get(
        f"{url}/v1/complaints",
        params={"category": "pungli", "sort": "newest", "page_size": 200},
        headers=own,
    )
    assert cid in {i["id"] for i in listed.json()["items"]}, listed.text
    assert {i["opd"] for i in listed.json()["items"]} == {"INSPEKTORAT"}
    started = await http.post(f"{url}/v1/complaints/{cid}/progress", json={}, headers=own)
    assert started.status_code == 200, started.text
    for answer in (read, listed, started):
        for value in identity:
            assert value not in answer.text, value
