"""HTTP Signature access-key auth against the sheet's worked example (sheet 4.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx

from jsctl_daemon.jumpserver.signature import (
    AccessKey,
    SignatureAuth,
    signature_header,
    signing_string,
)

DATE = "Tue, 07 Jan 2025 10:00:00 GMT"
TARGET = "/api/v1/perms/users/self/assets/?limit=1&offset=0"
EXPECTED = (
    "(request-target): get /api/v1/perms/users/self/assets/?limit=1&offset=0\n"
    "date: Tue, 07 Jan 2025 10:00:00 GMT"
)
KEY = AccessKey(
    id="2f7a4c2e-0000-4000-8000-000000000001", secret="s3cr3t-36-chars-xxxxxxxxxxxxxxxxxxxx"
)


def _expected_signature(text: str) -> str:
    digest = hmac.new(KEY.secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_signing_string_matches_sheet_example() -> None:
    assert signing_string("GET", TARGET, DATE) == EXPECTED


def test_header_names_key_algorithm_headers_and_signature() -> None:
    header = signature_header(KEY, "GET", TARGET, DATE)
    assert header == (
        f'Signature keyId="{KEY.id}",algorithm="hmac-sha256",'
        f'headers="(request-target) date",signature="{_expected_signature(EXPECTED)}"'
    )


def _sign(request: httpx.Request) -> httpx.Request:
    flow = SignatureAuth(KEY).auth_flow(request)
    return next(flow)


def test_auth_signs_path_and_query_exactly_as_sent() -> None:
    request = httpx.Request(
        "GET",
        "https://jms.example.com/api/v1/perms/users/self/assets/",
        params={"search": "web 01,db", "limit": 1, "offset": 0},
        headers={"Date": DATE},
    )
    signed = _sign(request)
    sent_target = signed.url.raw_path.decode()
    assert sent_target.startswith("/api/v1/perms/users/self/assets/?search=web")
    text = signing_string("get", sent_target, DATE)
    assert f'signature="{_expected_signature(text)}"' in signed.headers["Authorization"]


def test_auth_adds_an_imf_fixdate_date_and_lowercases_the_method() -> None:
    signed = _sign(httpx.Request("POST", "https://jms.example.com/api/v1/x/"))
    date = signed.headers["Date"]
    assert date.endswith(" GMT") and len(date) == len(DATE)
    text = f"(request-target): post /api/v1/x/\ndate: {date}"
    assert f'signature="{_expected_signature(text)}"' in signed.headers["Authorization"]


def test_access_key_repr_hides_the_secret() -> None:
    assert KEY.secret not in repr(KEY)
