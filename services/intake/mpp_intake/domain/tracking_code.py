"""Tracking codes of applications: ten characters, the last a check character."""

from mpp_shared import codes

LENGTH = 10


def new_tracking_code() -> str:
    return codes.new_code(LENGTH)


def normalise(code: str) -> str:
    return codes.normalise(code)


def is_valid(code: str) -> bool:
    return codes.is_valid(code, LENGTH)
