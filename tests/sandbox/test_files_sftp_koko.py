"""``/koko/ws/sftp/`` behaviours read from KoKo's source, per version (sheet 8.2, 2026-12-06):
the shared request field that mixes up requests in flight together (v4.9.0+), a failed asset
login, a download read error, and what older versions answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_files_support import FileUser, SftpClient, file_root, open_sftp

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo


@pytest.fixture
def workdir(workdir: Path, sandbox: SandboxInfo) -> Iterator[Path]:
    """The shared fresh directory; the sandbox's faults are reset after the test."""
    yield workdir
    sandbox.control().reset()


async def _two_mkdirs_in_flight(sftp: SftpClient, first: str, second: str) -> list[dict]:  # type: ignore[type-arg]
    ids = [await sftp.send("mkdir", {"path": first}), await sftp.send("mkdir", {"path": second})]
    replies = [await sftp.receive(), await sftp.receive()]
    assert sorted(r["id"] for r in replies) == sorted(ids)  # each reply echoes its own id
    return replies


async def test_requests_in_flight_together_are_mixed_up(fresh_sandbox: SandboxFactory) -> None:
    # A sandbox of its own: what earlier tests left in the shared one must not decide this.
    with fresh_sandbox("--no-throttle") as sandbox:
        user = FileUser(sandbox, "admin")
        try:
            workdir = file_root(sandbox) / f"t-{uuid.uuid4().hex[:8]}"
            workdir.mkdir()
            async with open_sftp(sandbox, user) as sftp:
                # Both goroutines read the newest request from the shared field: `first` is
                # never made.
                sandbox.control().koko(sftp_dispatch_delay_s=0.2)
                before = sandbox.control().counters().get("sftp_mixed_up", 0)
                first, second = f"/{workdir.name}/first", f"/{workdir.name}/second"
                replies = await _two_mkdirs_in_flight(sftp, first, second)
            # Both ran `mkdir second`: whichever came second may fail as SFTP fails it.
            errors = [r["err"] for r in replies if r["err"]]
            assert errors in ([], ['sftp: "Failure" (SSH_FX_FAILURE)']), replies
            assert (workdir / "second").is_dir() and not (workdir / "first").exists()
            assert sandbox.control().counters()["sftp_mixed_up"] == before + 1
        finally:
            user.close()


async def test_one_request_at_a_time_is_safe(
    sandbox: SandboxInfo, sftp: SftpClient, workdir: Path
) -> None:
    sandbox.control().koko(sftp_dispatch_delay_s=0.05)
    before = sandbox.control().counters().get("sftp_mixed_up", 0)
    for name in ("a", "b"):
        await sftp.ok("mkdir", {"path": f"/{workdir.name}/{name}"})
    assert (workdir / "a").is_dir() and (workdir / "b").is_dir()
    assert sandbox.control().counters().get("sftp_mixed_up", 0) == before


async def test_download_read_error_is_binary_with_err_then_data_without(
    sandbox: SandboxInfo, sftp: SftpClient, workdir: Path
) -> None:
    (workdir / "big.bin").write_bytes(b"x" * (3 * 1024 * 1024))
    sandbox.control().koko(download_read_error_after=2 * 1024 * 1024)
    chunks, final = await sftp.download(f"/{workdir.name}/big.bin")
    assert [bool(c["err"]) for c in chunks] == [False, True, False]
    assert chunks[2]["raw"] == ""
    assert final["type"] == "SFTP_DATA" and final["err"] == "" and final["data"] == "big.bin"


async def test_failed_asset_login_lists_nothing_then_the_session_is_gone(
    sandbox: SandboxInfo, sftp: SftpClient, workdir: Path
) -> None:
    sandbox.control().koko(asset_login_error="ssh: unable to authenticate")
    reply = await sftp.ok("list", {"path": ""})
    assert json.loads(reply["data"]) == [] and reply["current_path"] == ""
    gone = await sftp.request("list", {"path": ""})
    assert gone["type"] == "CLOSE" and gone["err"] == "Session expired or not found"


async def test_older_versions(fresh_sandbox: SandboxFactory) -> None:
    # v4.8.x: no shared field, a whole-file upload answers its path; v4.7: no endpoint at all.
    with fresh_sandbox("--no-throttle", "--server-version", "4.8.1") as info:
        user = FileUser(info, "admin")
        try:
            async with open_sftp(info, user) as sftp:
                info.control().koko(sftp_dispatch_delay_s=0.2)
                await _two_mkdirs_in_flight(sftp, "/one", "/two")
                assert (file_root(info) / "one").is_dir() and (file_root(info) / "two").is_dir()
                reply = await sftp.ok(
                    "upload", {"path": "/f.txt", "size": 2, "chunk": False}, raw=b"hi"
                )
                assert reply["data"] == "/f.txt"
            assert info.control().counters().get("sftp_mixed_up", 0) == 0
        finally:
            user.close()
    with fresh_sandbox("--no-throttle", "--server-version", "4.7.0") as info:
        user = FileUser(info, "admin")
        try:
            with pytest.raises(Exception, match="404"):
                async with open_sftp(info, user):
                    pass
        finally:
            user.close()
