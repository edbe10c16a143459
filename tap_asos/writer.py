"""Singer message writer: msgspec encoding, buffered stdout, flushed at each STATE.

The SDK's MsgSpecWriter flushes stdout after every message, a system call per record.
Here records are written in large chunks and every STATE flushes them first, so a target
always has every record a STATE covers before it sees that STATE; records after the last
STATE of a killed run were never covered by a saved state and are extracted again.
A sync that ends flushes the rest: the SDK writes no final STATE when the state did not
change, and the records since the last one must still reach the target.

A SCHEMA equal to the one last sent for its stream is not sent again: the SDK
re-sends a child stream's SCHEMA at every child sync, i.e. once per batch of ids,
and each would make the target re-validate and (for some) flush.
"""

from __future__ import annotations

import errno
import fcntl
import struct
import sys
import termios
import time
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import SchemaMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


BUFFER_BYTES = 256 * 1024


class BufferedMsgSpecWriter(MsgSpecWriter):
    """MsgSpecWriter that writes in 256 KiB chunks and at every STATE."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Start with an empty buffer."""
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        self._schemas: dict[str, Message] = {}

    @override
    def write_message(self, message: Message) -> None:
        if isinstance(message, SchemaMessage):
            if self._schemas.get(message.stream) == message:
                return
            self._schemas[message.stream] = message
        self._pending += self.format_message(message)
        if message.type == "STATE" or len(self._pending) >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write out what is buffered (at each STATE, and when a sync ends)."""
        sys.stdout.buffer.write(self._pending)
        sys.stdout.flush()
        self._pending.clear()

    def wait_until_read(self, timeout: float = 5.0) -> None:
        """Flush, then wait until the reader of stdout (a pipe) has taken everything.

        ``meltano run`` stops forwarding a tap's output the moment the tap exits when
        it terminates a pipeline (SIGINT, SIGTERM): the final STATE must have left the
        pipe before the tap exits. Not a pipe (a file, a terminal): returns at once.
        """
        self.flush()
        stdout = sys.stdout.buffer
        try:
            if stdout.isatty():
                return
            fd = stdout.fileno()
        except (AttributeError, ValueError, OSError):  # no file descriptor (tests)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
            except OSError as exc:
                if exc.errno in {errno.ENOTTY, errno.EINVAL, errno.EBADF}:
                    return
                raise
            if not struct.unpack("i", raw)[0]:
                time.sleep(0.05)  # the reader's event loop hands the line on
                return
            time.sleep(0.01)
