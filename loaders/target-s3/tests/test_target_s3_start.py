"""target-s3 checks its bucket and credentials at start, before it reads a line.

Each run gets a standard input that stays open and empty: a target that waited for its
first record to find the problem would hang (and time out) instead of exiting 2.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import threading
import typing as t

from conftest import SECRET
from helpers_s3 import TARGET, write_config

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import S3


def _start_without_input(config: Path, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run the target with an open, silent stdin; its exit code, stdout and stderr.

    Not ``communicate``: it would close stdin, an end of input the target may act on.
    """
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with out.open("w") as out_file, err.open("w") as err_file:
        process = subprocess.Popen(
            [TARGET, "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=out_file,
            stderr=err_file,
            env=env,
            cwd=cwd,
        )
        try:
            code = process.wait(timeout=60)
        finally:
            process.kill()
            process.wait()
            if process.stdin is not None:
                process.stdin.close()
    return code, out.read_text(), err.read_text()


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "ERROR" in line]


def test_a_missing_bucket_exits_2_at_start_before_reading_a_line(s3: S3, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.json", bucket="no-such-lake", endpoint_url=s3.url)
    code, out, err = _start_without_input(config, {**os.environ, **s3.env()}, tmp_path)
    assert code == 2, err[-2000:]
    assert out == ""
    [line] = _error_lines(err)
    assert f"Bucket 'no-such-lake' does not exist at {s3.url}" in line
    assert "Traceback" not in err


def test_no_credentials_exit_2_at_start_before_reading_a_line(s3: S3, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    code, out, err = _start_without_input(config, env, tmp_path)
    assert code == 2, err[-2000:]
    assert out == ""
    [line] = _error_lines(err)
    assert "Unable to locate credentials" in line
    assert "Set aws_access_key_id and aws_secret_access_key" in line


class _Forbidden(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that refuses every request, as S3 answers HeadBucket without access."""

    def do_HEAD(self) -> None:
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: t.Any) -> None:
        """Quiet."""


@contextlib.contextmanager
def _forbidden_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_bucket_it_may_not_use_exits_2_at_start_without_the_secret(tmp_path: Path) -> None:
    with _forbidden_endpoint() as url:
        config = write_config(
            tmp_path / "c.json",
            bucket="their-lake",
            endpoint_url=url,
            aws_access_key_id="x",
            aws_secret_access_key=SECRET,
        )
        code, out, err = _start_without_input(config, dict(os.environ), tmp_path)
    assert code == 2, err[-2000:]
    assert out == ""
    [line] = _error_lines(err)
    assert "Access to bucket 'their-lake'" in line
    assert "s3:ListBucket" in line
    assert SECRET not in err
