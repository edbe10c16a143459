"""target-s3 against a real moto S3 server: exactly-once objects, naming, STATE order."""

from __future__ import annotations

import json
import os
import subprocess
import time
import typing as t
from collections import Counter

from helpers_s3 import TARGET, messages, read_objects, run_target, write_config

if t.TYPE_CHECKING:
    from pathlib import Path

    from conftest import S3


def test_every_record_lands_once_under_the_key_template(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url, prefix="asos/test/"
    )
    result = run_target(config, messages({"products": 2500, "countries": 7}), s3.env(), tmp_path)
    assert result.returncode == 0, result.stderr
    objects = read_objects(s3.client, s3.bucket)
    assert all(k.startswith("asos/test/") and k.endswith(".jsonl.gz") for k in objects)
    by_stream: dict[str, Counter[int]] = {}
    for key, rows in objects.items():
        stream = key.split("/")[2]
        assert key.split("/")[3].startswith("dt=")
        by_stream.setdefault(stream, Counter()).update(r["id"] for r in rows)
    assert by_stream["products"] == Counter(range(2500))
    assert by_stream["countries"] == Counter(range(7))
    row = next(r for rows in objects.values() for r in rows if r["id"] == 3)
    assert row["price"] == 3.99  # numbers stay numbers
    assert json.loads(result.stdout.splitlines()[-1]) == {"upto": 2500}


def test_a_second_run_never_overwrites_the_first(s3: S3, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url)
    lines = messages({"products": 50})
    assert run_target(config, lines, s3.env(), tmp_path).returncode == 0
    first = read_objects(s3.client, s3.bucket)
    assert run_target(config, lines, s3.env(), tmp_path).returncode == 0
    second = read_objects(s3.client, s3.bucket)
    assert set(first) < set(second)
    assert all(second[k] == v for k, v in first.items())


def test_batches_become_separate_objects_with_part_numbers(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json",
        bucket=s3.bucket,
        endpoint_url=s3.url,
        batch_size_rows=100,
        compression="none",
    )
    assert run_target(config, messages({"products": 250}), s3.env(), tmp_path).returncode == 0
    objects = read_objects(s3.client, s3.bucket)
    keys = sorted(objects)
    assert [k.rsplit("-", 1)[1] for k in keys] == ["00001.jsonl", "00002.jsonl", "00003.jsonl"]
    assert Counter(r["id"] for rows in objects.values() for r in rows) == Counter(range(250))


def test_state_is_emitted_only_after_its_records_are_in_s3(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url, max_batch_age_seconds=1
    )
    log = tmp_path / "target.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [TARGET, "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, **s3.env()},
            cwd=tmp_path,
            bufsize=1,
        )
    assert process.stdin is not None
    assert process.stdout is not None
    # The target takes over a second to start on a busy machine: wait for its banner, or the
    # batch age below runs out before it has read anything and both chunks make one batch.
    deadline = time.monotonic() + 60
    while "Meltano SDK" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the target did not start"
        time.sleep(0.05)
    sent: set[int] = set()
    sent_at_state: dict[int, set[int]] = {}
    chunks = [messages({"products": 200})[:-1]] + [
        [
            json.dumps({"type": "RECORD", "stream": "products", "record": {"id": 200 * c + i}})
            for i in range(200)
        ]
        for c in (1, 2)
    ]
    for number, chunk in enumerate(chunks):
        for line in chunk:
            message = json.loads(line)
            if message["type"] == "RECORD":
                sent.add(message["record"]["id"])
            if message["type"] != "STATE":
                process.stdin.write(line + "\n")
        process.stdin.write(json.dumps({"type": "STATE", "value": {"chunk": number}}) + "\n")
        process.stdin.flush()
        sent_at_state[number] = set(sent)
        time.sleep(1.3)  # older than max_batch_age_seconds: the next record drains
    process.stdin.close()
    states = 0
    for state_line in process.stdout:
        number = json.loads(state_line)["chunk"]
        landed = {r["id"] for rows in read_objects(s3.client, s3.bucket).values() for r in rows}
        assert sent_at_state[number] <= landed, "STATE left before its records were in S3"
        states += 1
    assert process.wait(timeout=60) == 0
    assert states >= 2


def test_the_sink_does_not_import_the_target() -> None:
    # target.py builds sinks; sinks.py names what it needs of a target as a Protocol.
    import ast
    from pathlib import Path

    import target_s3.sinks

    tree = ast.parse(Path(target_s3.sinks.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "target_s3.upload" in imported
    assert "target_s3.target" not in imported
