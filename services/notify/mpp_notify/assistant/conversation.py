"""What the assistant makes of a message and what it answers: pure rules,
no I/O. The use case (usecases.whatsapp_assistant) fetches what an intent
needs (catalog, tracking state, a filed complaint) and asks here for the words.

Greeting or anything unknown -> the numbered menu of the current catalog;
a number -> that service's papers, fee, working days and points;
"status <tracking code>" -> the public tracking state and the next step;
"pengaduan <text> [tracking code]" -> a complaint, "aspirasi <text>" -> a
suggestion, "tanya <text>" / "informasi <text>" -> a request for
information: each filed with complaints and answered with its code and what
happens next for that kind;
"online" -> the link of the online application; "english" / "bahasa" switch
the language. Bahasa Indonesia unless the sender asked for English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mpp_shared import codes

Language = Literal["id", "en"]
Kind = Literal["menu", "service", "status", "complaint", "online", "language"]

COMPLAINT_WORDS = ("pengaduan", "aduan", "complaint", "keluhan")
ASPIRATION_WORDS = ("aspirasi", "saran", "usul", "usulan", "suggestion")
INFORMATION_WORDS = ("tanya", "informasi", "pertanyaan", "question")
# The kind of report (complaints' `kind`) each first word files.
ReportKind = Literal["aspirasi", "pengaduan", "permintaan_informasi"]
REPORT_WORDS: dict[str, ReportKind] = {
    **dict.fromkeys(COMPLAINT_WORDS, "pengaduan"),
    **dict.fromkeys(ASPIRATION_WORDS, "aspirasi"),
    **dict.fromkeys(INFORMATION_WORDS, "permintaan_informasi"),
}
STATUS_WORDS = ("status", "cek", "lacak", "track")
MIN_COMPLAINT_LENGTH = 10


@dataclass(frozen=True)
class Intent:
    kind: Kind
    number: int | None = None
    code: str | None = None  # a tracking code (status, or the complaint's optional one)
    text: str | None = None  # the complaint's words
    language: Language | None = None  # for kind "language"
    report_kind: ReportKind = "pengaduan"  # for kind "complaint": what is filed


def understand(text: str | None) -> Intent:
    """The intent of one message; anything not understood is the menu."""
    words = (text or "").strip()
    lowered = words.lower()
    first, _, rest = lowered.partition(" ")
    if lowered in ("english", "inggris", "bahasa inggris"):
        return Intent("language", language="en")
    if lowered in ("bahasa", "indonesia", "bahasa indonesia"):
        return Intent("language", language="id")
    if lowered.isdigit() and len(lowered) <= 3:
        return Intent("service", number=int(lowered))
    if first in STATUS_WORDS:
        return Intent("status", code=codes.normalise(rest) if rest.strip() else None)
    if first in REPORT_WORDS:
        said = words[len(first) :].strip()
        return Intent(
            "complaint", text=said, code=_trailing_code(said), report_kind=REPORT_WORDS[first]
        )
    if lowered in ("online", "daftar online", "ajukan online"):
        return Intent("online")
    return Intent("menu")


def _trailing_code(said: str) -> str | None:
    """A valid tracking code at the end of the complaint, if the sender gave one."""
    parts = said.rsplit(maxsplit=1)
    if len(parts) == 2 and codes.is_valid(parts[1]):
        return codes.normalise(parts[1])
    return None


def _t(language: Language, id_text: str, en_text: str) -> str:
    return en_text if language == "en" else id_text


def menu(services: list[dict[str, Any]], language: Language, *, greet: bool = True) -> str:
    """The numbered menu of the catalog's services, and what else to type."""
    lines = []
    if greet:
        lines.append(
            _t(
                language,
                "Halo! Ini layanan WhatsApp MPP Kabupaten Kediri.",
                "Hello! This is the WhatsApp service of MPP Kabupaten Kediri.",
            )
        )
    lines.append(
        _t(
            language,
            "Balas dengan nomor layanan untuk melihat persyaratannya:",
            "Reply with a service's number to see what it needs:",
        )
    )
    lines += [f"{n}. {service['name']}" for n, service in enumerate(services, start=1)]
    lines += [
        "",
        _t(
            language,
            "Ketik *status <kode pelacakan>* untuk cek permohonan, "
            "*pengaduan <isi pengaduan>* untuk menyampaikan pengaduan, "
            "*aspirasi <saran Anda>* untuk menyampaikan saran atau usulan, "
            "*tanya <pertanyaan Anda>* untuk meminta informasi publik, "
            "*online* untuk mengajukan permohonan secara online. Type *english* for English.",
            "Type *status <tracking code>* to follow a request, "
            "*pengaduan <your complaint>* to file a complaint, "
            "*aspirasi <your suggestion>* to send a suggestion or proposal, "
            "*tanya <your question>* to request public information, "
            "*online* to apply online. Ketik *bahasa* untuk Bahasa Indonesia.",
        ),
    ]
    return "\n".join(lines)


def service_details(
    service: dict[str, Any], point_names: dict[str, str], language: Language
) -> str:
    """A service's papers (with alternatives), fee, working days and points."""
    lines = [f"*{service['name']}*", _t(language, "Persyaratan:", "Requirements:")]
    for requirement in service.get("requirements") or []:
        line = f"- {requirement['name']}"
        alternatives = [a["name"] for a in requirement.get("alternatives") or []]
        if alternatives:
            line += _t(language, " (atau: ", " (or: ") + "; ".join(alternatives) + ")"
        if not requirement.get("mandatory", True):
            line += _t(language, " [jika ada]", " [if any]")
        lines.append(line)
    lines.append(_t(language, "Biaya: ", "Fee: ") + str(service.get("fee_text") or "Rp 0"))
    lines.append(_t(language, "Lama proses: ", "Processing time: ") + str(service["sla_text"]))
    points = [point_names.get(code, code) for code in service.get("pickup_points") or []]
    if points:
        lines.append(_t(language, "Tempat layanan: ", "Served at: ") + "; ".join(points))
    lines += [
        "",
        _t(
            language,
            "Ketik *online* untuk mengajukan secara online, atau *menu* untuk layanan lain.",
            "Type *online* to apply online, or *menu* for other services.",
        ),
    ]
    return "\n".join(lines)


def tracking_state(found: dict[str, Any], language: Language) -> str:
    """The public tracking state of a request and its next step."""
    status = found.get("status_label") or found.get("status")
    lines = [
        _t(language, "Permohonan ", "Request ")
        + f"{found['tracking_code']} ({found.get('service_name', '')}): {status}",
    ]
    missing = [m.get("name") or m.get("code") for m in found.get("missing_requirements") or []]
    if missing:
        lines.append(_t(language, "Yang masih kurang: ", "Still missing: ") + "; ".join(missing))
    if found.get("next_step"):
        lines.append(_t(language, "Langkah berikutnya: ", "Next step: ") + found["next_step"])
    return "\n".join(lines)


def status_needs_code(language: Language) -> str:
    return _t(
        language,
        "Ketik *status* diikuti kode pelacakan pada tanda terima, contoh: status AB12CD34EF",
        "Type *status* followed by the tracking code on your receipt, e.g. status AB12CD34EF",
    )


def status_unknown(code: str, language: Language) -> str:
    return _t(
        language,
        f"Kode pelacakan {code} tidak ditemukan. Periksa kembali penulisannya.",
        f"No request has the tracking code {code}. Check how it was typed.",
    )


def status_invalid(code: str, language: Language) -> str:
    return _t(
        language,
        f"Kode pelacakan {code} tidak sah. Periksa kembali penulisannya.",
        f"The tracking code {code} is not valid. Check how it was typed.",
    )


def report_too_short(kind: ReportKind, language: Language) -> str:
    """How to write a report of `kind` (a complaint's words for a complaint)."""
    if kind == "aspirasi":
        return _t(
            language,
            "Tuliskan saran Anda setelah kata *aspirasi*, minimal 10 huruf, contoh: "
            "aspirasi mohon loket dibuka juga hari Sabtu.",
            "Write your suggestion after the word *aspirasi*, at least 10 letters, e.g. "
            "aspirasi please open the counters on Saturdays too.",
        )
    if kind == "permintaan_informasi":
        return _t(
            language,
            "Tuliskan pertanyaan Anda setelah kata *tanya*, minimal 10 huruf, contoh: "
            "tanya berapa anggaran pelayanan MPP tahun ini?",
            "Write your question after the word *tanya*, at least 10 letters, e.g. "
            "tanya what is the MPP's service budget this year?",
        )
    return complaint_too_short(language)


def report_filed(kind: ReportKind, complaint_code: str, status_url: str, language: Language) -> str:
    """The code of the filed report and what happens next for its kind."""
    if kind == "aspirasi":
        return _t(
            language,
            f"Aspirasi Anda sudah kami terima dengan kode {complaint_code}. Aspirasi "
            "diteruskan ke OPD terkait dan jawabannya kami kirim ke nomor ini. "
            f"Ikuti perkembangannya: {status_url}",
            f"We have received your suggestion under the code {complaint_code}. It goes to "
            "the responsible agency and we will send its answer to this number. "
            f"Follow it here: {status_url}",
        )
    if kind == "permintaan_informasi":
        return _t(
            language,
            f"Permintaan informasi Anda sudah kami terima dengan kode {complaint_code}. "
            "Jawaban paling lambat 10 hari kerja; bila perlu diperpanjang sekali 7 hari kerja "
            f"dan Anda diberi tahu alasannya. Ikuti perkembangannya: {status_url}",
            f"We have received your request for information under the code {complaint_code}. "
            "It will be answered within 10 working days; if more time is needed it is "
            "extended once by 7 working days and you are told why. "
            f"Follow it here: {status_url}",
        )
    return complaint_filed(complaint_code, status_url, language)


def complaint_too_short(language: Language) -> str:
    return _t(
        language,
        "Tuliskan pengaduan Anda setelah kata *pengaduan*, minimal 10 huruf, contoh: "
        "pengaduan antrean di loket 3 terlalu lama. Boleh ditambah kode pelacakan di akhir.",
        "Write your complaint after the word *pengaduan*, at least 10 letters, e.g. "
        "pengaduan the queue at desk 3 is too slow. You may add a tracking code at the end.",
    )


def complaint_filed(complaint_code: str, status_url: str, language: Language) -> str:
    return _t(
        language,
        f"Pengaduan Anda sudah kami terima dengan kode {complaint_code}. "
        f"Simpan kode ini untuk mengikuti pengaduan Anda: {status_url}",
        f"We have received your complaint under the code {complaint_code}. "
        f"Keep this code to follow your complaint: {status_url}",
    )


def complaint_limit(language: Language) -> str:
    return _t(
        language,
        "Anda sudah menyampaikan beberapa pengaduan hari ini. Silakan coba lagi besok, "
        "atau datang ke loket pengaduan MPP.",
        "You have filed several complaints today. Please try again tomorrow, "
        "or come to the MPP complaints desk.",
    )


def online_link(public_intake_url: str, language: Language) -> str:
    url = public_intake_url.rstrip("/") + "/online"
    return _t(
        language,
        f"Ajukan permohonan secara online (unggah foto/scan persyaratan dari HP): {url}",
        f"Apply online (upload photos or scans of the papers from your phone): {url}",
    )


def language_switched(language: Language) -> str:
    return _t(language, "Baik, kita lanjut dalam Bahasa Indonesia.", "OK, English it is.")


def try_again_later(language: Language) -> str:
    """The fallback when intake or complaints does not answer in time."""
    return _t(
        language,
        "Maaf, layanan sedang sibuk. Silakan coba lagi sebentar.",
        "Sorry, the service is busy. Please try again in a moment.",
    )
