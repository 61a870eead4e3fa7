"""Reading JumpServer-like login and MFA pages by structure (ids, classes, names)."""

from __future__ import annotations

from jsctl_daemon.jumpserver._html import MfaOption, parse_login_page

LOGIN_WITH_CAPTCHA = """<!DOCTYPE html><html><head><title>JumpServer</title></head><body>
<div class="box-1"><form id="login-form" action="" method="post" role="form" novalidate>
  <input type="hidden" name="csrfmiddlewaretoken" value="maskedTOKEN123">
  <div style="line-height: 17px;margin-bottom: 20px;color: #999999;">
    <p class="help-block red-fonts">The username or password you entered is incorrect,
       please enter it again. You can also try 6 times (The account will be temporarily
       locked for 30 minutes)</p>
  </div>
  <div class="form-group"><input type="text" class="form-control" name="username"
       placeholder="Username" required value="mei"></div>
  <div class="form-group"><input type="password" class="form-control" id="password"
       placeholder="Password" required><input id="password-hidden" type="text"
       style="display:none" name="password"></div>
  <div class="form-group captcha">
    <img src="/core/auth/captcha/image/0a1b2c3d4e5f/" alt="captcha" class="captcha" />
    <input type="hidden" name="captcha_0" value="0a1b2c3d4e5f" required id="id_captcha_0">
    <input type="text" name="captcha_1" required id="id_captcha_1" autocapitalize="off">
    <div class="help-block">Invalid CAPTCHA</div>
  </div>
  <input type="checkbox" name="auto_login"> <button type="submit">Sign in</button>
</form></div></body></html>"""

LOGIN_PLAIN = """<html><body><form id="login-form" method="post">
<input type="hidden" name="csrfmiddlewaretoken" value="t">
<div class="form-group no-captcha-challenge"><input name="username"></div>
<input name="password" type="text"></form></body></html>"""

MFA_PAGE = """<html><body><form class="m-t" role="form" method="post" action="">
<input type="hidden" name="csrfmiddlewaretoken" value="abc">
<select id="mfa-select" name="mfa_type" class="form-control select-con">
  <option value="otp" data-needs-bind="false">OTP</option>
  <option value="sms" disabled>SMS</option>
  <option value="email" data-needs-bind="true">Email</option>
</select>
<input type="text" class="form-control input-style" name="code" placeholder="">
<p class="red-fonts">MFA code invalid, or ntp sync server time, You can also try 6 times</p>
</form></body></html>"""


def test_login_page_with_captcha_and_errors() -> None:
    page = parse_login_page(LOGIN_WITH_CAPTCHA)
    assert page.is_login_form
    assert page.has_captcha
    assert page.captcha_image == "/core/auth/captcha/image/0a1b2c3d4e5f/"
    assert page.inputs["captcha_0"] == "0a1b2c3d4e5f"
    assert page.inputs["csrfmiddlewaretoken"] == "maskedTOKEN123"
    assert len(page.form_errors) == 1
    assert page.form_errors[0].startswith("The username or password you entered is incorrect")
    assert "\n" not in page.form_errors[0]
    assert page.field_errors == ["Invalid CAPTCHA"]


def test_plain_login_page_has_no_captcha_or_errors() -> None:
    page = parse_login_page(LOGIN_PLAIN)
    assert page.is_login_form
    assert not page.has_captcha
    assert "no-captcha-challenge" in page.classes
    assert page.errors == []


def test_mfa_page_options_and_error() -> None:
    page = parse_login_page(MFA_PAGE)
    assert page.is_mfa_form
    assert page.mfa_options == [
        MfaOption("otp"),
        MfaOption("sms", disabled=True),
        MfaOption("email", needs_bind=True),
    ]
    assert page.form_errors == [
        "MFA code invalid, or ntp sync server time, You can also try 6 times"
    ]


def test_garbage_is_not_a_login_page() -> None:
    for text in [
        "",
        "not html at all <<<>>>",
        "<html><form id='x'><p class='red-fonts'>",
        "\x00\xff<input name=username>",
    ]:
        page = parse_login_page(text)
        assert not page.is_login_form
        assert not page.has_captcha
