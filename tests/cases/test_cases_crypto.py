"""Vault encryption, keyed lookup hashes and masking."""

from __future__ import annotations

import pytest

from cases.crypto import DecryptionError, Vault, mask_id, mask_name, mask_phone

SECRET = "test-secret-key-0123456789abcdef"


def test_encrypt_round_trip_and_random_nonce() -> None:
    vault = Vault(SECRET)
    a, b = vault.encrypt("430421199001013457"), vault.encrypt("430421199001013457")
    assert a != b
    assert "430421199001013457" not in a
    assert vault.decrypt(a) == vault.decrypt(b) == "430421199001013457"
    assert vault.decrypt(vault.encrypt("张三 一家")) == "张三 一家"


def test_wrong_key_and_tampering_refused() -> None:
    token = Vault(SECRET).encrypt("13912345678")
    with pytest.raises(DecryptionError):
        Vault("another-secret-key-0123456789").decrypt(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        Vault(SECRET).decrypt(tampered)
    with pytest.raises(DecryptionError):
        Vault(SECRET).decrypt("plain text")


def test_lookup_hash_is_keyed_stable_and_distinct_from_encryption_key() -> None:
    vault = Vault(SECRET)
    h = vault.lookup_hash("430421199001013457")
    assert len(h) == 64 and h == vault.lookup_hash(" 430421199001013457 ")
    assert h != Vault("another-secret-key-0123456789").lookup_hash("430421199001013457")
    assert h != vault.lookup_hash("430421199001013458")
    import hashlib

    assert h != hashlib.sha256(b"430421199001013457").hexdigest()  # keyed, not a bare hash


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError):
        Vault("short")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("430421199001013457", "430421********3457"),
        ("44011320141005001X", "440113********001X"),
        ("610104620927690", "610104*****7690"),
        ("", ""),
    ],
)
def test_mask_id(raw: str, masked: str) -> None:
    assert mask_id(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13912345678", "139****5678"),
        ("+86 139 1234 5678", "139****5678"),
        ("0731-84567890", "0731-****7890"),
        ("010 12345678", "010-****5678"),
        ("12317", "***17"),
        (None, ""),
    ],
)
def test_mask_phone(raw: str | None, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧阳**"), ("欧阳", "欧*"), ("李", "*"), ("", "")],
)
def test_mask_name(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked
