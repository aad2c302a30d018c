"""Handover rules at the pickup point: which path applies, what is refused, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from mpp_documents.api.schemas import JobTransition
from mpp_documents.domain.handover import (
    HANDOVER_CONTEXT,
    CollectedBy,
    Handover,
    HandoverError,
    HandoverPath,
    RepresentativeInfo,
    check_request,
    days_waiting,
    decide,
    is_nik,
    is_overdue,
    is_point_code,
    mask_representative,
    overdue_since,
)
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY

HOLDER = "3506042602660001"
OTHER = "3506042602660002"
WAKIL = RepresentativeInfo(
    full_name="Ahmad Fauzi",
    nik="3506041203850007",
    relationship="suami",
    authority_letter_ref="SK/017/IV/2026",
)
cipher = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)


def check(nik: str) -> str:
    """As intake computes ApplicationVerifiedV1.holder_nik_check."""
    return cipher.blind_index(nik, context=HANDOVER_CONTEXT).hex()


def _decide(**kw: Any) -> Handover:
    args: dict[str, Any] = {
        "holder_nik_check": check(HOLDER),
        "collector_nik": None,
        "representative": None,
        "supervisor": False,
        "nik_check": check,
    } | kw
    return decide(**args)


def test_the_holder_with_the_right_nik_collects() -> None:
    handover = _decide(collector_nik=HOLDER)
    assert handover.path is HandoverPath.HOLDER_NIK
    assert handover.collected_by is CollectedBy.HOLDER
    assert handover.representative_masked is None


@pytest.mark.parametrize("supervisor", [False, True])
def test_a_wrong_nik_is_refused_even_for_a_supervisor(supervisor: bool) -> None:
    with pytest.raises(HandoverError) as refused:
        _decide(collector_nik=OTHER, supervisor=supervisor)
    error = refused.value
    assert (error.field_name, error.type, error.refused) == ("collector_nik", "nik_mismatch", True)
    assert "NIK pengambil tidak sama dengan NIK pemilik dokumen" in error.message_id
    assert "surat kuasa" in error.message_id
    # What the audit trail may keep: masked only, never the clear NIKs.
    assert error.detail == {"reason": "nik_mismatch", "collector_nik_masked": "3506**********02"}
    assert OTHER not in repr(error) and OTHER not in str(error.detail)


def test_the_check_is_the_keyed_hash_of_the_handover_context() -> None:
    # The same NIK hashed for another purpose (the intake lookup index) does not match.
    other_context = cipher.blind_index(HOLDER, context="nik").hex()
    with pytest.raises(HandoverError, match="nik_mismatch"):
        _decide(holder_nik_check=other_context, collector_nik=HOLDER)


def test_a_representative_collects_with_a_letter_and_is_kept_masked() -> None:
    handover = _decide(representative=WAKIL)
    assert handover.path is HandoverPath.REPRESENTATIVE
    assert handover.collected_by is CollectedBy.REPRESENTATIVE
    assert handover.representative_masked == "A*** F*** 3506**********07"
    assert handover.authority_letter_ref == "SK/017/IV/2026"
    detail = handover.audit_detail()
    assert detail["relationship"] == "suami"
    assert WAKIL.nik not in str(detail) and "Ahmad" not in str(detail)
    assert WAKIL.nik not in repr(WAKIL) and "Ahmad" not in repr(WAKIL)


def test_masking_of_the_representative() -> None:
    assert mask_representative("Siti Nur Rahayu", "3506046502900003") == (
        "S*** N*** R*** 3506**********03"
    )
    assert "*" in mask_representative("X", "3506046502900003")


@pytest.mark.parametrize(
    ("collector_nik", "representative", "expected"),
    [
        (None, None, "collector_required"),
        ("", None, "collector_required"),
        (HOLDER, WAKIL, "collector_ambiguous"),
        ("35060426026600", None, "string_pattern_mismatch"),
    ],
)
def test_the_request_must_choose_one_path(
    collector_nik: str | None, representative: RepresentativeInfo | None, expected: str
) -> None:
    with pytest.raises(HandoverError) as invalid:
        check_request(collector_nik=collector_nik, representative=representative)
    assert invalid.value.type == expected
    assert invalid.value.refused is False  # an incomplete request, not a refused person


def test_which_path_applies() -> None:
    assert check_request(collector_nik=HOLDER, representative=None) is HandoverPath.HOLDER_NIK
    assert check_request(collector_nik=None, representative=WAKIL) is HandoverPath.REPRESENTATIVE


def test_jobs_without_a_check_need_a_representative_or_a_supervisor() -> None:
    with pytest.raises(HandoverError) as refused:
        _decide(holder_nik_check=None, collector_nik=HOLDER)
    assert (refused.value.type, refused.value.refused) == ("holder_check_unavailable", True)
    override = _decide(holder_nik_check=None, collector_nik=HOLDER, supervisor=True)
    assert override.path is HandoverPath.SUPERVISOR_OVERRIDE
    assert override.collected_by is CollectedBy.HOLDER
    by_wakil = _decide(holder_nik_check=None, representative=WAKIL)
    assert by_wakil.path is HandoverPath.REPRESENTATIVE


def test_formats() -> None:
    assert is_nik(HOLDER) and not is_nik("3506-04-260266-0001") and not is_nik("350604260266000")
    assert not is_nik("３５０６０４２６０２６６０００１")  # full-width digits are not a NIK
    assert is_point_code("MPP") and is_point_code("KEC-PARE") and is_point_code("DESA-01")
    for bad in ("kec-pare", "K", "-PARE", "1KEC", "KEC PARE", "K" * 32):
        assert not is_point_code(bad), bad


def test_the_transition_body_checks_handover_fields() -> None:
    body = JobTransition(to="picked_up", collector_nik=f" {HOLDER} ")
    assert body.collector_nik == HOLDER
    assert HOLDER not in repr(body)
    with pytest.raises(ValidationError) as short:
        JobTransition(to="picked_up", collector_nik="12345")
    assert short.value.errors()[0]["loc"] == ("collector_nik",)
    with pytest.raises(ValidationError) as partial:
        JobTransition.model_validate(
            {"to": "picked_up", "representative": {"full_name": "Ahmad Fauzi", "nik": HOLDER}}
        )
    missing = {e["loc"][-1] for e in partial.value.errors()}
    assert missing == {"relationship", "authority_letter_ref"}
    with pytest.raises(ValidationError) as elsewhere:
        JobTransition(to="produced", collector_nik=HOLDER)
    assert elsewhere.value.errors()[0]["type"] == "handover_fields_unexpected"


def test_days_waiting_and_overdue() -> None:
    now = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    assert days_waiting(now - timedelta(hours=23), now) == 0
    assert days_waiting(now - timedelta(days=3, hours=1), now) == 3
    assert days_waiting(now + timedelta(minutes=1), now) == 0  # clock skew never goes negative
    assert overdue_since(now, 14) == now - timedelta(days=14)
    assert not is_overdue(now - timedelta(days=14), now, 14)
    assert is_overdue(now - timedelta(days=14, seconds=1), now, 14)
    assert not is_overdue(now - timedelta(days=13), now, 14)
