from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from alliance.validators import validate_credit_code, validate_mobile

# Codes printed on real business licences (public registrations), and the standard's own example.
REAL_CODES = [
    "91350100M000100Y43",  # GB 32100-2015 example
    "91110000600037341L",
    "91440300708461136T",
    "91110108551385082Q",
    "914403001922038216",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_are_accepted(code):
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91350100M000100Y4", "credit_code_length"),  # one character short
        ("91350100M000100Y433", "credit_code_length"),  # one too many
        ("", "credit_code_length"),
        ("91350100M000100I43", "credit_code_characters"),  # I is not in the alphabet
        ("91350100M000100O43", "credit_code_characters"),  # nor O
        ("91350100m000100y43", "credit_code_characters"),  # lower case
        ("9135A100M000100Y43", "credit_code_characters"),  # region code must be digits
        ("91350100M000100Y44", "credit_code_checksum"),  # last character changed
        ("91350100M000101Y43", "credit_code_checksum"),  # a digit mistyped
        ("91350100M000010Y43", "credit_code_checksum"),  # two digits swapped
    ],
)
def test_invalid_credit_codes_are_refused_with_the_reason(code, error_code):
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code)
    assert excinfo.value.code == error_code


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "17700001111"])
def test_mainland_mobile_numbers_are_accepted(phone):
    validate_mobile(phone)


@pytest.mark.parametrize("phone", ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a"])
def test_other_numbers_are_refused(phone):
    with pytest.raises(ValidationError):
        validate_mobile(phone)
