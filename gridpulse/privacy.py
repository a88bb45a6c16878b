"""Masking residents' personal data: names, phone numbers, house numbers, ID numbers."""

from __future__ import annotations

import re

import pandas as pd

# Mainland mobile numbers, landlines with area code, and 18-digit resident ID numbers.
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?\d{7,8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\dA-Za-z])")
LONG_DIGITS = re.compile(r"\d{11,}")  # any other long number (card, account, malformed ID)
DIGITS = re.compile(r"\d+")


def mask_name(name: object) -> object:
    """张三丰 -> 张**: the surname stays so a grid worker can still say 张阿姨."""
    if not isinstance(name, str) or not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: object) -> object:
    """13812345678 -> 138****5678; anything else that is not empty -> ***."""
    if not isinstance(phone, str) or not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 11 else "***"


def mask_address(address: object) -> object:
    """Every number in an address (building, unit, room, house number) becomes *."""
    if not isinstance(address, str):
        return address
    return DIGITS.sub("*", address)


def mask_text(text: object) -> object:
    """Phone and ID numbers inside free text."""
    if not isinstance(text, str):
        return text
    text = ID_NUMBER.sub(lambda m: m.group(0)[:3] + "*" * 11 + m.group(0)[-4:], text)
    text = MOBILE.sub(r"\1****\2", text)
    text = LANDLINE.sub(lambda m: m.group(1) + "-*******", text)
    return LONG_DIGITS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 5) + m.group(0)[-2:], text)


def mask_cases(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of case rows with every personal-data column masked."""
    out = rows.copy()
    columns = {"reporter_name": mask_name, "reporter_phone": mask_phone, "address": mask_address,
               "description": mask_text}  # fmt: skip
    for col, fn in columns.items():
        if col in out.columns:
            out[col] = out[col].map(fn)
    return out
