"""Complaint vocabulary: categories and the first states of the lifecycle."""

from __future__ import annotations

from enum import StrEnum

CODE_PREFIX = "P"
CODE_LENGTH = 9


class ComplaintStatus(StrEnum):
    RECEIVED = "received"


CATEGORIES: dict[str, tuple[str, str]] = {
    "pelayanan": ("Kualitas pelayanan", "Quality of service"),
    "keterlambatan": ("Dokumen terlambat", "Late document"),
    "pungli": ("Pungutan liar", "Illegal fee"),
    "sikap_petugas": ("Sikap petugas", "Officer conduct"),
    "lainnya": ("Lainnya", "Other"),
}
