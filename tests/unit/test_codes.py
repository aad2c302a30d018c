"""Public codes: tracking codes of applications and complaint codes."""

from __future__ import annotations

import random

import pytest

from mpp_complaints.domain.complaints import CODE_LENGTH, CODE_PREFIX
from mpp_intake.domain import tracking_code
from mpp_shared import codes

ALPHABET = codes.ALPHABET


def reference_luhn_mod_n_valid(code: str, alphabet: str = ALPHABET) -> bool:
    """Independent Luhn mod N check, written from the algorithm's definition."""
    n = len(alphabet)
    total = 0
    for i, char in enumerate(reversed(code)):
        value = alphabet.index(char)
        if i % 2 == 1:
            value *= 2
            value = value // n + value % n
        total += value
    return total % n == 0


def sample_codes(count: int = 25) -> list[str]:
    return [tracking_code.new_tracking_code() for _ in range(count)]


def test_alphabet_has_no_look_alikes() -> None:
    assert len(ALPHABET) == 32
    assert len(set(ALPHABET)) == 32
    assert not set("01OI") & set(ALPHABET)
    assert set(ALPHABET) <= set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def test_new_tracking_codes_have_the_right_shape() -> None:
    for code in sample_codes(200):
        assert len(code) == tracking_code.LENGTH == 10
        assert set(code) <= set(ALPHABET)
        assert not set(code) & set("0O1I")
        assert tracking_code.is_valid(code)
        assert codes.is_valid(code)
        assert reference_luhn_mod_n_valid(code)


def test_new_codes_are_random() -> None:
    generated = sample_codes(200)
    assert len(set(generated)) == 200


@pytest.mark.parametrize("length", [2, 6, 10, 16])
def test_new_code_lengths(length: int) -> None:
    code = codes.new_code(length)
    assert len(code) == length
    assert codes.is_valid(code, length)
    assert not codes.is_valid(code, length + 1)


def test_every_single_substitution_is_detected() -> None:
    checked = 0
    for code in sample_codes():
        for position in range(len(code)):
            for letter in ALPHABET:
                if letter == code[position]:
                    continue
                mutated = code[:position] + letter + code[position + 1 :]
                assert not tracking_code.is_valid(mutated), (code, mutated)
                checked += 1
    assert checked == 25 * 10 * 31


def test_validity_agrees_with_an_independent_luhn_mod_32() -> None:
    rng = random.Random(20240817)
    for _ in range(2000):
        candidate = "".join(rng.choice(ALPHABET) for _ in range(10))
        assert codes.is_valid(candidate) == reference_luhn_mod_n_valid(candidate), candidate


def test_normalise_accepts_lowercase_hyphens_and_spaces() -> None:
    code = tracking_code.new_tracking_code()
    pretty = f" {code[:5].lower()}-{code[5:].lower()} "
    assert tracking_code.normalise(pretty) == code
    assert tracking_code.is_valid(pretty)
    assert tracking_code.is_valid(f"{code[:3]} {code[3:6]}-{code[6:]}")
    assert codes.normalise("ab-cd ef") == "ABCDEF"


@pytest.mark.parametrize("bad", ["", "ABC", "2345678ABCD2", "!!!!!!!!!!"])
def test_malformed_codes_are_invalid(bad: str) -> None:
    assert not tracking_code.is_valid(bad)


def test_wrong_length_and_foreign_characters_are_invalid() -> None:
    code = tracking_code.new_tracking_code()
    assert not tracking_code.is_valid(code[:-1])
    assert not tracking_code.is_valid(code + code[-1])
    for look_alike in "0O1I":
        assert not tracking_code.is_valid(look_alike + code[1:])


def test_complaint_codes_carry_their_prefix() -> None:
    for _ in range(100):
        code = codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX)
        assert CODE_PREFIX == "P"
        assert code.startswith("P")
        assert len(code) == len(CODE_PREFIX) + CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert codes.is_valid(code, CODE_LENGTH, prefix=CODE_PREFIX)
        assert codes.is_valid(code.lower(), CODE_LENGTH, prefix=CODE_PREFIX)
        assert not codes.is_valid(code, CODE_LENGTH, prefix="Q")
        assert not codes.is_valid(code[1:], CODE_LENGTH, prefix=CODE_PREFIX)


def test_complaint_code_substitutions_are_detected() -> None:
    code = codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX)
    for position in range(1, len(code)):
        for letter in ALPHABET:
            if letter != code[position]:
                mutated = code[:position] + letter + code[position + 1 :]
                assert not codes.is_valid(mutated, CODE_LENGTH, prefix=CODE_PREFIX), mutated


def test_check_character_covers_the_prefix() -> None:
    # a different prefix is a single substitution: the old check character no longer fits
    body_codes = [codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX) for _ in range(50)]
    rebased = ["Q" + c[1:] for c in body_codes]
    assert not any(codes.is_valid(c, CODE_LENGTH, prefix="Q") for c in rebased)
