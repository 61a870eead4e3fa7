"""Password encryption round trip with the server-side decrypt rule (sheet 3.3)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from jsctl_daemon.jumpserver.password_crypto import (
    LEGACY_SEPARATOR,
    NEW_SEPARATOR,
    decode_public_key_cookie,
    encrypt_password,
    separator_from_script,
)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def server_decrypt(value: str, key: rsa.RSAPrivateKey, separator: str) -> str:
    """The server's rule: two non-empty parts or use as-is; any failure → as-is."""
    parts = value.split(separator)
    if len(parts) != 2 or not all(parts):
        return value
    try:
        aes_key = key.decrypt(base64.b64decode(parts[0]), padding.PKCS1v15())
        padded_key = aes_key.ljust(16 if len(aes_key) <= 16 else 32, b"\0")
        decryptor = Cipher(algorithms.AES(padded_key), modes.ECB()).decryptor()
        plain = decryptor.update(base64.b64decode(parts[1])) + decryptor.finalize()
        return plain.rstrip(b"\0").decode()
    except ValueError:
        return value


@pytest.mark.parametrize("separator", [LEGACY_SEPARATOR, NEW_SEPARATOR])
@pytest.mark.parametrize("password", ["hunter2", "pässwörd with spaces", "x" * 16, "y" * 33])
def test_round_trip(private_key: rsa.RSAPrivateKey, separator: str, password: str) -> None:
    cipher = encrypt_password(password, _pem(private_key), separator)
    assert password not in cipher
    assert server_decrypt(cipher, private_key, separator) == password


def test_wrong_separator_is_not_decrypted(private_key: rsa.RSAPrivateKey) -> None:
    cipher = encrypt_password("hunter2", _pem(private_key), NEW_SEPARATOR)
    assert server_decrypt(cipher, private_key, LEGACY_SEPARATOR) != "hunter2"


def test_cookie_bare_and_quoted(private_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(private_key)
    bare = base64.b64encode(pem).decode().rstrip("=")
    quoted = '"' + base64.b64encode(pem).decode() + '"'
    assert decode_public_key_cookie(bare) == pem
    assert decode_public_key_cookie(quoted) == pem


def test_cookie_that_is_not_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="PEM"):
        decode_public_key_cookie(base64.b64encode(b"hello").decode())


def test_separator_detection() -> None:
    assert separator_from_script(404, "<html>Not found</html>") == LEGACY_SEPARATOR
    assert separator_from_script(200, "var sep = ':';") == LEGACY_SEPARATOR
    assert separator_from_script(200, "x + '::encrypted::' + y") == NEW_SEPARATOR
