"""JumpServer's error shapes (sheet section 1) become exceptions a person can act on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jsctl_daemon.jumpserver._responses import error_for, parse_json
from jsctl_daemon.jumpserver.errors import (
    BadResponse,
    ConfirmRequired,
    InvalidRequest,
    JumpServerError,
    LoginRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
)


def _response(
    status: int, body: Any = None, text: str | None = None, **headers: str
) -> httpx.Response:
    request = httpx.Request("GET", "https://jms.example.com/api/v1/users/profile/?token=secret")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "signed", "kind"),
    [
        (
            401,
            {
                "detail": "Authentication credentials were not provided.",
                "code": "not_authenticated",
            },
            False,
            LoginRequired,
        ),
        (
            401,
            {"detail": "Invalid signature.", "code": "authentication_failed"},
            True,
            LoginRequired,
        ),
        (
            403,
            {"detail": "CSRF Failed: CSRF token missing.", "code": "permission_denied"},
            False,
            PermissionDenied,
        ),
        (
            404,
            {"detail": "Object object does not exist.", "code": "object_does_not_exist"},
            True,
            NotFound,
        ),
        (
            400,
            {"code": "perm_account_invalid", "detail": "Account not found"},
            True,
            InvalidRequest,
        ),
        (400, {"account": ["This field is required."]}, True, InvalidRequest),
        (
            412,
            {
                "type": "user_confirm_required",
                "code": "mfa",
                "detail": "This action require confirm current user",
            },
            False,
            ConfirmRequired,
        ),
        (429, {"detail": "Request was throttled.", "code": "throttled"}, True, RateLimited),
        (500, {"error": "Server internal error"}, True, ServerError),
    ],
)
def test_error_shapes(status: int, body: Any, signed: bool, kind: type[JumpServerError]) -> None:
    error = error_for(_response(status, body), signed=signed)
    assert type(error) is kind
    assert "secret" not in str(error)  # the query string (tokens) never reaches messages


def test_invalid_request_keeps_the_code() -> None:
    error = error_for(
        _response(400, {"code": "acl_review", "detail": "ACL action is review"}), signed=True
    )
    assert isinstance(error, InvalidRequest)
    assert error.code == "acl_review"
    assert "ACL action is review" in str(error)


def test_login_required_names_the_profile() -> None:
    error = error_for(_response(401, {"code": "not_authenticated"}), signed=False)
    assert str(error.for_profile("work")) == (
        "the JumpServer login for profile `work` has expired — run `jsctl login --profile work`"
    )


def test_html_500_for_a_signed_request_hints_at_a_deleted_key() -> None:
    error = error_for(_response(500, text="<html>Server Error (500)</html>"), signed=True)
    assert isinstance(error, ServerError)
    assert "access key" in str(error)
    assert "GET /api/v1/users/profile/" in str(error)


def test_rate_limited_reports_retry_after() -> None:
    error = error_for(_response(429, {"code": "throttled"}, **{"Retry-After": "7"}), signed=True)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0


def test_garbage_body_names_the_url() -> None:
    with pytest.raises(BadResponse, match="GET /api/v1/users/profile/"):
        parse_json(_response(200, text="<html>not json</html>", **{"content-type": "text/html"}))
