"""Masking residents' personal data: names, phone numbers, house numbers, ID numbers."""

from __future__ import annotations

import re

import pandas as pd

# Mainland mobile numbers, landlines with area code, and 18-digit resident ID numbers,
# written straight or with spaces, dots, dashes, brackets or a +86 prefix.
SEP = r"[\s.\-()（）]*"
MOBILE = re.compile(rf"(?<!\d)(?:\+?86{SEP})?(1[3-9]\d)(?:{SEP}\d){{4}}{SEP}(\d{SEP}\d{SEP}\d{SEP}\d)(?!\d)")
ID_NUMBER = re.compile(rf"(?<![\dA-Za-z])\d(?:{SEP}\d){{16}}{SEP}[\dXx](?![\dA-Za-z])")
# Anything else with 7 or more digits (landlines, cards, accounts, dates written out):
# over-masking free text is the safe side.
LONG_NUMBER = re.compile(rf"(?<!\d)\d(?:{SEP}\d){{6,}}(?!\d)")
# House numbers: Arabic, full-width or Chinese numerals before 号/楼/栋/单元/室/层/户…
NUMERAL = "0-9０-９一二三四五六七八九十百千零〇两"
HOUSE_NUMBER = re.compile(rf"[{NUMERAL}]+(?=[号楼栋幢单元室层户弄座排#＃])")
# ...and the number after such a word: 3栋2单元501, 12号楼302, 2#楼301.
AFTER_MARKER = re.compile(rf"(?<=[号楼栋幢元室层户#＃])[{NUMERAL}]+")
# Dashed house numbers: 3-2-501, B2-1003.
DASHED = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]?[0-9０-９]+(?:\s*[-－—]\s*[A-Za-z]?[0-9０-９]+){1,3}(?![0-9A-Za-z])")
DIGITS = re.compile(r"[0-9０-９]+")


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
    return DIGITS.sub("*", _house_numbers(address))


def mask_text(text: object) -> object:
    """Phone and ID numbers (and any other long number) and house numbers inside free text.

    A resident writes "我住幸福里3号楼2单元501室" or "3栋2单元501" or "3-2-501": the
    building, unit and room go too.
    """
    if not isinstance(text, str):
        return text
    text = ID_NUMBER.sub(lambda m: _keep_ends(m.group(0), 3, 4), text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{re.sub(r'[^0-9]', '', m.group(2))}", text)
    text = LONG_NUMBER.sub(lambda m: _keep_ends(m.group(0), 2, 2), text)
    return _house_numbers(text)


def _house_numbers(text: str) -> str:
    return AFTER_MARKER.sub("*", HOUSE_NUMBER.sub("*", DASHED.sub("*", text)))


def _keep_ends(number: str, head: int, tail: int) -> str:
    digits = re.sub(r"[^0-9Xx]", "", number)
    return digits[:head] + "*" * max(len(digits) - head - tail, 1) + digits[-tail:]


def mask_cases(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of case rows with every personal-data column masked."""
    out = rows.copy()
    columns = {"reporter_name": mask_name, "reporter_phone": mask_phone, "address": mask_address,
               "description": mask_text}  # fmt: skip
    for col, fn in columns.items():
        if col in out.columns:
            out[col] = out[col].map(fn)
    return out
