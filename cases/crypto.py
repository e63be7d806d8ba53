"""Encryption at rest, keyed lookup hashes and masking for ID numbers, phone numbers and names.

design.md "Privacy by construction": ID and phone numbers are stored encrypted (AES-GCM from
`cryptography`) with a keyed hash for lookup, and shown masked everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1:"
_AAD = b"shenbao/v1"
_SALT = b"shenbao-vault-salt-v1"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A stored value could not be decrypted (wrong key or tampered ciphertext)."""


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret)


class Vault:
    """AES-GCM encryption and HMAC-SHA256 lookup hashes, each with its own key derived from the secret."""

    def __init__(self, secret_key: str | bytes) -> None:
        secret = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        if len(secret) < 16:
            raise ValueError("secret key too short: use at least 16 bytes")
        self._aead = AESGCM(_derive(secret, b"shenbao/encrypt/v1"))
        self._hmac_key = _derive(secret, b"shenbao/lookup/v1")

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text; a fresh random nonce each time, so equal inputs give different outputs."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _AAD)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a value made by `encrypt`; raises DecryptionError on a wrong key or tampering."""
        if not token.startswith(_PREFIX):
            raise DecryptionError("unknown ciphertext format")
        try:
            raw = base64.urlsafe_b64decode(token[len(_PREFIX) :].encode("ascii"))
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("ciphertext cannot be decrypted with this key") from exc

    def lookup_hash(self, value: str) -> str:
        """Keyed HMAC-SHA256 (hex, 64 chars) of a normalised value, for equality lookups."""
        return hmac.new(self._hmac_key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()

    def encrypt_optional(self, value: str | None) -> str | None:
        return None if value is None else self.encrypt(value)

    def hash_optional(self, value: str | None) -> str | None:
        return None if value is None else self.lookup_hash(value)


def mask_id(id_number: str | None) -> str:
    """First 6 and last 4 kept: 430421********3457 (15-digit numbers likewise)."""
    if not id_number:
        return ""
    value = unicodedata.normalize("NFKC", id_number).strip().upper()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_MOBILE = re.compile(r"^1\d{10}$")
_LANDLINE_AREA = re.compile(r"^(010|02\d|0[3-9]\d{2})")


def mask_phone(phone: str | None) -> str:
    """Mobile 139****5678; landline keeps its area code and last 4 (0731-****7890); short ones masked."""
    if not phone:
        return ""
    text = unicodedata.normalize("NFKC", phone).strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+86") or (len(digits) == 13 and digits.startswith("86")):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits[:3] + "****" + digits[-4:]
    area = _LANDLINE_AREA.match(digits)
    if area and len(digits) - len(area.group(1)) >= 7:
        local = digits[len(area.group(1)) :]
        return area.group(1) + "-" + "*" * (len(local) - 4) + local[-4:]
    if len(digits) >= 7:
        return "*" * (len(digits) - 4) + digits[-4:]
    if len(digits) >= 3:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


_ID_LIKE = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)|(?<!\d)(\d{6})(\d{5})(\d{4})(?!\d)")
_MOBILE_LIKE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# any other long run of digits: an ID number mistyped (17 or 19 digits), a bank card, a landline with its code
_LONG_DIGITS = re.compile(r"(?<![\d*])(\d{3})(\d{7,})(\d{2})(?![\d*])")


def mask_text(text: str | None) -> str:
    """Free text (a report, a supplement, a call summary) with the ID, mobile and other long numbers people
    typed into it masked: 430421********3457, 139****5678, 622**************23. Amounts stay readable."""
    if not text:
        return text or ""
    masked = _MOBILE_LIKE.sub(lambda m: f"{m.group(1)}****{m.group(3)}",
                              _ID_LIKE.sub(lambda m: mask_id(m.group(0)), text))
    return _LONG_DIGITS.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), masked)


def mask_parsed(parsed: dict[str, Any]) -> dict[str, Any]:
    """The parser's output with its ID and phone numbers masked."""
    out = dict(parsed)
    if isinstance(out.get("id_numbers"), list):
        out["id_numbers"] = [mask_id(str(v)) for v in out["id_numbers"]]
    if isinstance(out.get("phones"), list):
        out["phones"] = [mask_phone(str(v)) for v in out["phones"]]
    for key in ("text", "raw_text"):
        if isinstance(out.get(key), str):
            out[key] = mask_text(out[key])
    return out


# Common two-character (compound) surnames: 欧阳娜娜 -> 欧阳**.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 西门 "
    "百里 呼延 东郭 澹台 公羊 闻人 万俟 赫连 钟离 申屠 濮阳 太史 第五 拓跋 左丘 司空 鲜于 闾丘 "
    "亓官 仲孙 单于 公冶 宗政 淳于 太叔 乐正 谷梁 梁丘 漆雕 壤驷 公良 夹谷 宰父 微生 羊舌".split()
)


def mask_name(name: str | None) -> str:
    """Keep the surname only: 张三 -> 张*, 欧阳娜娜 -> 欧阳**, 阿依古丽·买买提 -> 阿*******."""
    if not name:
        return ""
    value = unicodedata.normalize("NFKC", name).strip()
    keep = 2 if len(value) >= 3 and value[:2] in COMPOUND_SURNAMES else 1
    if len(value) <= 1:
        return "*"
    return value[:keep] + "*" * (len(value) - keep)
