"""The test kit's identities are what the services accept, and never repeat."""

from __future__ import annotations

from datetime import date

from mpp_intake.domain.identity import validate_nik
from mpp_shared.contacts import normalise_phone
from tests.support.identities import email, nik, phone


def test_niks_are_valid_unique_and_tell_apart_by_their_last_two_digits() -> None:
    made = [nik() for _ in range(250)] + [nik("350617", female=True) for _ in range(50)]
    assert all(validate_nik(value) == value for value in made)
    assert len(set(made)) == len(made)
    for start in range(0, len(made) - 100, 50):
        assert len({value[-2:] for value in made[start : start + 100]}) == 100
    # Across the turn to the next birth date as well.
    later = [nik() for _ in range(10_000)]
    assert len(set(later) | set(made)) == len(later) + len(made)
    for start in range(0, len(later) - 100, 97):
        assert len({value[-2:] for value in later[start : start + 100]}) == 100
    woman = nik(born=date(1990, 7, 9), female=True)
    assert woman[6:12] == "490790"


def test_phones_and_addresses_are_valid_and_unique() -> None:
    made = [phone() for _ in range(100)] + [phone("0857") for _ in range(100)]
    assert all(normalise_phone(p.typed) == p.e164 for p in made)
    assert len({p.e164 for p in made}) == len(made)
    assert made[0].international == made[0].e164[1:]
    assert len({email() for _ in range(50)}) == 50
