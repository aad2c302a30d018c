"""Who the tests' citizens are: every NIK and phone number a test makes here is
valid (checked by the same libraries the services use) and unique within the
test session, so two tests never apply for the same person by chance and a
search for a leaked value can only find the value it looks for.

``nik(region="350604", *, born=None, female=False)``
    A 16-digit NIK of kecamatan ``region``: the region code, the birth date
    (DDMMYY, day + 40 for a woman) and a serial. Any 100 NIKs in a row differ
    in their last two digits, the only digits a masked NIK shows.
``phone(prefix="0812") -> Phone``
    A mobile number as the front desk types it (``.typed``, e.g.
    ``081200000017``) and in E.164 (``.e164``, ``+6281200000017``).
``email(who="warga") -> str``
    An address on example.co.id (a domain that receives no mail).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers
from stdnum.id import nik as stdnum_nik

# 9,900 serials per birth date, then the date moves on by a day; a multiple of
# 100, so the last two digits keep cycling 01..99, 00 across the turn.
_SERIALS = 9900
_BIRTH = date(1966, 2, 26)
_niks = itertools.count()
_phones = itertools.count(1)
_emails = itertools.count(1)


def nik(region: str = "350604", *, born: date | None = None, female: bool = False) -> str:
    """A valid NIK of kecamatan `region`, never made before in this session."""
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"a region code is 6 digits, not {region!r}")
    n = next(_niks)
    serial = n % _SERIALS + 1
    birth = born or _BIRTH + timedelta(days=n // _SERIALS)
    day = birth.day + (40 if female else 0)
    value = f"{region}{day:02d}{birth:%m%y}{serial:04d}"
    stdnum_nik.validate(value)
    return value


@dataclass(frozen=True)
class Phone:
    typed: str  # as the front desk types it: 0812...
    e164: str  # as the services store and send it: +62812...

    @property
    def international(self) -> str:
        """The E.164 digits without the plus sign (628...)."""
        return self.e164[1:]


def phone(prefix: str = "0812") -> Phone:
    """A valid Indonesian mobile number, never made before in this session."""
    typed = f"{prefix}{next(_phones):08d}"
    parsed = phonenumbers.parse(typed, "ID")
    if phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValueError(f"{typed} is not an Indonesian mobile number")
    return Phone(typed, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def email(who: str = "warga") -> str:
    """An address never made before in this session."""
    return f"{who}.{next(_emails)}@example.co.id"
