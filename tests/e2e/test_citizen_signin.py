"""A resident signs in to the online application without an account, on the
running stack: NIK + phone -> a one-time code through notify (the fake SMS
gateway / WhatsApp API receives it) -> a citizen session (bearer token, or
the pages' HttpOnly cookie) -> signed out. The answer never tells whether a
NIK is known; the limits answer 429 with Retry-After; the code is nowhere in
clear: not on the topic, not in notify's delivery log, not in a log or a
span."""

from __future__ import annotations

from pathlib import Path

import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_pages_in_browser import readable
from tests.privacy import exported_spans
from tests.support.auth import auth
from tests.support.browser import PHONE, chromium, chromium_path, opened
from tests.support.citizen import (
    client_address,
    mentions_code,
    request_code,
    sign_in,
    wait_for_code,
)
from tests.support.http import LIVE
from tests.support.identities import nik as new_nik
from tests.support.identities import phone as new_phone
from tests.support.opd import OutsideReader
from tests.support.otlp import OtlpReceiver
from tests.support.polling import eventually
from tests.support.providers import Providers


async def test_a_resident_signs_in_with_a_code_by_sms_and_out_again(
    stack: Stack,
    http: httpx.AsyncClient,
    providers: Providers,
    opd_reader: OutsideReader,
    otlp: OtlpReceiver,
) -> None:
    intake = stack.services["intake"].url
    nik, phone = new_nik(), new_phone()
    request_id, code = request_code(intake, providers, nik=nik, phone=phone.typed)
    [message] = [m for m in providers.to(phone.e164) if code in m.body]
    assert message.channel == "sms"
    assert message.body == (
        f"Kode masuk MPP Anda: {code}. Berlaku 5 menit. "
        "Jangan berikan kode ini kepada siapa pun, termasuk petugas."
    )

    address = client_address()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = await http.post(
        f"{intake}/v1/citizen/sessions",
        json={"request_id": request_id, "code": wrong},
        headers={"X-Forwarded-For": address},
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["code"]
    opened = await http.post(
        f"{intake}/v1/citizen/sessions",
        json={"nik": nik, "phone": phone.typed, "code": code},
        headers={"X-Forwarded-For": address},
    )
    assert opened.status_code == 201, opened.text
    bearer = {"Authorization": f"Bearer {opened.json()['token']}"}
    me = await http.get(f"{intake}/v1/citizen/sessions/current", headers=bearer)
    assert me.status_code == 200
    assert me.json()["nik_masked"] == nik[:4] + "*" * 10 + nik[-2:]
    assert nik not in me.text and phone.e164 not in me.text

    # An officer's token is no citizen session, and a citizen's token no officer's.
    officer = await http.get(f"{intake}/v1/citizen/sessions/current", headers=auth("frontdesk"))
    assert officer.status_code == 403
    assert (await http.get(f"{intake}/v1/applications", headers=bearer)).status_code == 403

    assert (
        await http.delete(f"{intake}/v1/citizen/sessions/current", headers=bearer)
    ).status_code == 204
    ended = await http.get(f"{intake}/v1/citizen/sessions/current", headers=bearer)
    assert ended.status_code == 401 and ended.headers["www-authenticate"] == "Bearer"

    # Notify's delivery log shows the message with the code redacted.
    notify = stack.services["notify"].url
    logged = await http.post(
        f"{notify}/v1/notifications/search",
        json={"recipient": phone.e164},
        headers=auth("supervisor"),
    )
    [entry] = logged.json()["items"]
    assert entry["body"].startswith("Kode masuk MPP Anda: ******.")
    assert not mentions_code(logged.text, code)

    # The event on the shared topic: the code and the phone sealed, no NIK.
    [event] = await eventually(
        lambda: opd_reader.events(lambda doc: doc.get("subject") == request_id),
        what="the sign-in event on mpp.citizen",
    )
    assert event["type"] == "mpp.citizen.signin_code_requested.v1"
    raw = str(event)
    for secret in (nik, phone.e164, phone.international, phone.typed):
        assert secret not in raw
    assert not mentions_code(raw, code)
    # Nor in any log line or span of any service.
    _nowhere_in_logs_or_spans(stack, otlp, [nik, phone.e164], code)


def _nowhere_in_logs_or_spans(
    stack: Stack, otlp: OtlpReceiver, values: list[str], code: str
) -> None:
    for log in Path(stack.workdir, "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(v in text for v in values), log.name
        assert not mentions_code(text, code), log.name
    spans = exported_spans(otlp.server)
    assert spans
    text = repr([(s.name, s.attributes, s.events, s.status_message) for s in spans])
    assert not any(v in text for v in values) and not mentions_code(text, code)


async def test_the_answer_never_tells_whether_a_nik_is_known_and_limits_hold(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    intake = stack.services["intake"].url
    known = new_nik()
    submitted = await http.post(
        f"{intake}/v1/applications",
        json={
            "service_code": "ktp_el",
            "nik": known,
            "full_name": "Budi Santoso",
            "channel": "mpp_desk",
            "documents": ["kartu_keluarga", "bukti_usia_17"],
        },
        headers=auth("frontdesk"),
    )
    assert submitted.status_code == 201, submitted.text

    async def ask(nik: str, phone: str) -> httpx.Response:
        return await http.post(
            f"{intake}/v1/citizen/signin-codes",
            json={"nik": nik, "phone": phone, "channel": "sms"},
            headers={"X-Forwarded-For": client_address()},
        )

    answers = [await ask(known, new_phone().typed), await ask(new_nik(), new_phone().typed)]
    assert [a.status_code for a in answers] == [202, 202]
    shapes = [
        {k: v for k, v in a.json().items() if k not in ("request_id", "expires_at")}
        for a in answers
    ]
    assert shapes[0] == shapes[1] and set(answers[0].json()) == set(answers[1].json())

    # Per NIK: the 4th code within the window is refused, whatever the phone.
    for _ in range(2):
        assert (await ask(known, new_phone().typed)).status_code == 202
    limited = await ask(known, new_phone().typed)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 900

    bad = await ask("1234", "12")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"nik", "phone"}


async def test_the_sign_in_pages_set_an_httponly_cookie_and_sign_out(
    stack: Stack, providers: Providers
) -> None:
    intake = stack.services["intake"].url
    nik, phone = new_nik(), new_phone()
    browser = {"X-Forwarded-For": client_address(), "Accept": "text/html"}
    async with httpx.AsyncClient(
        base_url=intake, headers=browser, timeout=10, limits=LIVE
    ) as client:
        form = await client.get("/online/masuk")
        assert form.status_code == 200 and "<h1>Masuk untuk mengajukan online</h1>" in form.text
        assert (
            'for="nik"' in form.text and 'for="phone"' in form.text and "<script" not in form.text
        )
        assert form.headers["cache-control"] == "no-store"

        typo = await client.post("/online/masuk", data={"nik": "35060", "phone": phone.typed})
        assert typo.status_code == 422 and "NIK harus 16 angka" in typo.text

        seen = len(providers.to(phone.e164))
        sent = await client.post(
            "/online/masuk", data={"nik": nik, "phone": phone.typed, "channel": "whatsapp"}
        )
        assert sent.status_code == 303 and sent.headers["location"].startswith(
            "/online/kode?request="
        )
        code_page = await client.get(sent.headers["location"])
        assert "WhatsApp" in code_page.text and "5 menit" in code_page.text
        request_id = sent.headers["location"].split("request=")[1].split("&")[0]
        code = wait_for_code(providers, phone.typed, seen=seen, channel="whatsapp")

        wrong = await client.post(
            "/online/kode", data={"request_id": request_id, "code": "12", "via": "whatsapp"}
        )
        assert wrong.status_code == 422 and "kode salah" in wrong.text
        signed_in = await client.post(
            "/online/kode", data={"request_id": request_id, "code": f" {code[:3]} {code[3:]} "}
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/online"
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("mpp_citizen=")
        for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=1800"):
            assert flag.lower() in cookie.lower(), cookie

        me = await client.get("/v1/citizen/sessions/current")  # the cookie alone
        assert me.status_code == 200 and me.json()["channel"] == "whatsapp"
        out = await client.post("/online/keluar")
        assert out.status_code == 303 and out.headers["location"] == "/online/masuk"
        assert "mpp_citizen" not in client.cookies
    # Without a session, a browser is sent to the sign-in page.
    async with httpx.AsyncClient(
        base_url=intake, headers=browser, timeout=10, limits=LIVE
    ) as client:
        again = await client.get("/v1/citizen/sessions/current")
        assert again.status_code == 303 and again.headers["location"] == "/online/masuk"


def test_the_support_helper_signs_in(stack: Stack, providers: Providers) -> None:
    intake = stack.services["intake"].url
    phone = new_phone()
    token = sign_in(intake, providers, nik=new_nik(), phone=phone.typed)
    me = httpx.get(
        f"{intake}/v1/citizen/sessions/current", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.json()["phone_masked"].endswith(phone.e164[-3:])


async def test_signing_in_works_in_a_browser_on_a_cheap_phone(
    stack: Stack, providers: Providers
) -> None:
    intake = stack.services["intake"].url
    nik, phone = new_nik(), new_phone()
    async with chromium(chromium_path()) as browser, opened(browser, PHONE) as own:
        await own.set_extra_http_headers({"X-Forwarded-For": client_address()})
        page = await own.new_page()
        await page.goto(f"{intake}/online/masuk")
        await readable(page, PHONE)
        seen = len(providers.to(phone.e164))
        await page.locator("input[name=nik]").fill(nik)
        await page.locator("input[name=phone]").fill(phone.typed)
        await page.locator("select[name=channel]").select_option("sms")
        await page.get_by_role("button", name="Kirim kode").click()
        await page.wait_for_url("**/online/kode?**")
        assert "5 menit" in await readable(page, PHONE)
        code = wait_for_code(providers, phone.typed, seen=seen, channel="sms")
        await page.locator("input[name=code]").fill(code)
        await page.get_by_role("button", name="Masuk").click()
        await page.wait_for_url(f"{intake}/online")
        [cookie] = [c for c in await own.cookies() if c["name"] == "mpp_citizen"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert nik not in await page.content()
