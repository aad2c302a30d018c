"""The words of a receipt, once, for every way it is printed (the thermal and
A4 pages, the PDF): each label and value in the reader's language, dates in
WIB in words, the opening hours grouped by day."""

from __future__ import annotations

from dataclasses import dataclass

from mpp_intake.domain.wording import (
    channel_words,
    datetime_words,
    fee_words,
    opening_hours_lines,
    sla_words,
    step_words,
)
from mpp_intake.usecases.receipts import Receipt
from mpp_shared.errors import Language

# The national complaint channel every public office answers on.
SP4N_LAPOR = "www.lapor.go.id"


@dataclass(frozen=True)
class Line:
    label: str
    value: str


@dataclass(frozen=True)
class ReceiptView:
    language: Language
    title: str
    office_name: str
    code_label: str
    code: str
    tracking_url: str
    qr_alt: str
    qr_caption: str
    service: Line
    status: Line
    handed_in_label: str
    handed_in: list[str]
    missing_label: str
    missing: list[str]
    nothing_missing: str
    next_step: Line
    promise: Line
    point_label: str
    point_name: str
    point_address: str
    hours_label: str
    hours: list[str]
    fee: Line
    free_statement: str
    report_money: str
    complaint_url: str
    channels_label: str
    channels: list[str]
    counter: Line
    received: Line
    printed: Line
    copy_note: str | None
    keep_note: str


def receipt_view(receipt: Receipt, office_name: str) -> ReceiptView:
    lang = receipt.language
    en = lang == "en"

    def t(id_text: str, en_text: str) -> str:
        return en_text if en else id_text

    sla = sla_words(receipt.sla_amount, receipt.sla_unit, lang)
    if receipt.expected_ready_at is not None:
        promise = f"{datetime_words(receipt.expected_ready_at, lang)} ({sla})"
    else:
        promise = t(
            f"Ditetapkan setelah persyaratan lengkap: {sla} sejak berkas lengkap",
            f"Set once the papers are complete: {sla} from then",
        )
    point = receipt.pickup_point
    counter = channel_words(receipt.channel, lang)
    if receipt.counter:
        counter = f"{receipt.counter} · {counter}"
    return ReceiptView(
        language=lang,
        title=t("Tanda Terima Permohonan", "Application Receipt"),
        office_name=office_name,
        code_label=t("Kode pelacakan", "Tracking code"),
        code=receipt.tracking_code,
        tracking_url=receipt.tracking_url,
        qr_alt=t(
            f"QR kode pelacakan {receipt.tracking_code}: {receipt.tracking_url}",
            f"QR code of tracking code {receipt.tracking_code}: {receipt.tracking_url}",
        ),
        qr_caption=t(
            "Pindai kode QR atau buka alamat ini untuk melacak permohonan:",
            "Scan the QR code or open this address to track the application:",
        ),
        service=Line(t("Layanan", "Service"), receipt.service_name),
        status=Line(t("Status", "Status"), step_words(receipt.progress, lang)),
        handed_in_label=t("Berkas yang diserahkan", "Papers handed in"),
        handed_in=list(receipt.papers_handed_in) or [t("Belum ada", "None yet")],
        missing_label=t("Persyaratan yang belum lengkap", "Papers still missing"),
        missing=[f"{m.name} ({m.note})" if m.note else m.name for m in receipt.papers_missing],
        nothing_missing=t("Tidak ada: persyaratan lengkap", "None: the papers are complete"),
        next_step=Line(t("Langkah berikutnya", "Next step"), receipt.next_step),
        promise=Line(t("Perkiraan selesai (hari kerja)", "Promised (working days)"), promise),
        point_label=t("Tempat pengambilan", "Pickup point"),
        point_name=point.name if point else t("Akan diberitahukan", "To be announced"),
        point_address=point.address if point else "",
        hours_label=t("Jam layanan", "Opening hours"),
        hours=opening_hours_lines(point.opening_hours if point else None, lang),
        fee=Line(t("Biaya", "Fee"), fee_words(receipt.fee_idr, lang)),
        free_statement=t(
            "Layanan ini GRATIS. Jangan membayar kepada siapa pun.",
            "This service is FREE. Do not pay anyone.",
        ),
        report_money=t(
            "Bila ada yang meminta uang, laporkan di "
            f"{receipt.complaint_url} dengan kategori Pungutan liar (pungli).",
            f"If anyone asks you for money, report it at {receipt.complaint_url} "
            "under the category Illegal fee (pungli).",
        ),
        complaint_url=receipt.complaint_url,
        channels_label=t("Saluran pengaduan", "Complaint channels"),
        channels=[
            t(f"Formulir daring: {receipt.complaint_url}", f"Online form: {receipt.complaint_url}"),
            t(
                "Meja pengaduan di Mal Pelayanan Publik",
                "The complaint desk at the Public Service Mall",
            ),
            f"SP4N-LAPOR!: {SP4N_LAPOR}",
        ],
        counter=Line(t("Loket", "Counter"), counter),
        received=Line(t("Diterima", "Received"), datetime_words(receipt.submitted_at, lang)),
        printed=Line(t("Dicetak", "Printed"), datetime_words(receipt.printed_at, lang)),
        copy_note=(
            t(
                f"Cetak ulang (cetakan ke-{receipt.print_number})",
                f"Reprint (print no. {receipt.print_number})",
            )
            if receipt.reprinted
            else None
        ),
        keep_note=t(
            "Simpan tanda terima ini sampai Anda menerima dokumen.",
            "Keep this receipt until you have your document.",
        ),
    )
