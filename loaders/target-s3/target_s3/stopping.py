"""A graceful stop on SIGINT/SIGTERM: the input ends, every object is completed, then STATE.

The SDK's own handler drains the sinks inside the signal handler and exits 0: it may
run while a record is half written into a gzip stream or a part is being uploaded, and
a second signal (Ctrl-C reaches every process of the terminal's group, and ``meltano
run`` then sends SIGTERM to both plugins as well) re-enters it, raising ``SystemExit``
in the middle of the first drain, whose uploads are then aborted: the run kept
nothing, and no STATE left the target.

Here the signal only ends the *input*: the input is read by polling its file
descriptor (``select``, every ``POLL_SECONDS``), so the reading loop sees a stop within
that time wherever the signal was delivered.  (A process-directed signal may land on a
worker thread, the S3 uploads', and then never interrupts the main thread's blocking
read: Python runs the handler only once the main thread runs again, which an open,
silent pipe never lets it do.  An earlier version that relied on the interruption hung
so, now and then.)  The SDK's ordinary end of input follows: every sink is drained (each
object completed on S3), then the latest STATE received is emitted, a STATE that covers
only records read before it.  Further signals are ignored.

After a signal the input is still read while it keeps coming (``linger_idle_seconds``
of silence ends it, ``linger_max_seconds`` at most): the tap, told to stop as well,
sends the STATE of the partitions it finished after its last periodic STATE, then
ends. ``meltano run`` never closes the target's input when it terminates a
pipeline, so the silence, not an end of file, ends that wait.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

LINGER_IDLE_SECONDS = 2.0
LINGER_MAX_SECONDS = 30.0
POLL_SECONDS = 0.2
CHUNK_BYTES = 1 << 16


class GracefulInput:
    """Lines of the input until EOF, or until a stop signal (plus the linger)."""

    def __init__(
        self,
        source: t.IO[str],
        *,
        linger_idle_seconds: float = LINGER_IDLE_SECONDS,
        linger_max_seconds: float = LINGER_MAX_SECONDS,
    ) -> None:
        """Read ``source``; nothing happens before :meth:`install`."""
        self.source = source
        self.linger_idle = linger_idle_seconds
        self.linger_max = linger_max_seconds
        self.signum: int | None = None
        self._deadline = 0.0
        self._last_input = 0.0
        self._previous: dict[int, t.Any] = {}

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number after a stop (130 SIGINT, 143 SIGTERM), else None."""
        return None if self.signum is None else 128 + self.signum

    def install(self) -> None:
        """Take SIGINT and SIGTERM until the target takes them.

        The SDK installs its own SIGINT/SIGTERM handler when the target is built: the
        target's ``_handle_termination`` hands the signal to :meth:`on_stop`.
        """
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self.on_stop)

    def uninstall(self) -> None:
        """Give the signals back to their earlier handlers."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __iter__(self) -> Iterator[str]:
        """Each line; ends at EOF or after a stop (and its linger)."""
        try:
            fd = self.source.fileno()
        except (AttributeError, ValueError, OSError):  # not a file: an in-memory input
            for line in self.source:
                yield line
                if self._stopped():
                    return
            return
        pending = b""
        while True:
            while (end := pending.find(b"\n")) >= 0:
                raw, pending = pending[: end + 1], pending[end + 1 :]
                yield raw.decode("utf-8")
            if self._stopped():
                return
            ready, _, _ = select.select([fd], [], [], POLL_SECONDS)
            if not ready:
                continue
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                if pending:
                    yield pending.decode("utf-8")
                return
            self._last_input = time.monotonic()
            pending += chunk

    def on_stop(self, signum: int, _frame: FrameType | None) -> None:
        """End the input (after the linger); later signals are ignored."""
        if self.signum is not None:
            return  # already stopping: a second signal must not cut the drain short
        now = time.monotonic()
        self._deadline = now + self.linger_max
        self._last_input = now
        self.signum = signum
        sys.stderr.write(
            f"Received {signal.Signals(signum).name}: reading what the tap still sends "
            f"(until {self.linger_idle:g} s of silence), then completing every object "
            "and emitting the last STATE received.\n"
        )

    def _stopped(self) -> bool:
        """A stop was asked, and the input has been silent long enough (or the linger is up)."""
        if self.signum is None:
            return False
        now = time.monotonic()
        return now - self._last_input >= self.linger_idle or now >= self._deadline


def wait_until_read(stream: t.IO[t.Any], timeout: float = 5.0) -> None:
    """Wait until the reader of a pipe has taken everything written to it.

    ``meltano run`` cancels a plugin's output reader as soon as the plugin exits when
    it terminates a pipeline: a STATE line still in the pipe at exit would be lost.
    Not a pipe (a file, a terminal): returns at once.
    """
    try:
        if stream.isatty():
            return
    except (AttributeError, ValueError):
        return
    deadline = time.monotonic() + timeout
    buffer = struct.pack("i", 0)
    while time.monotonic() < deadline:
        try:
            unread = struct.unpack("i", fcntl.ioctl(stream.fileno(), termios.FIONREAD, buffer))[0]
        except OSError as exc:
            if exc.errno in {errno.ENOTTY, errno.EINVAL, errno.EBADF}:
                return
            raise
        except (AttributeError, ValueError):  # no file descriptor
            return
        if not unread:
            time.sleep(0.05)  # the reader's event loop hands the line on
            return
        time.sleep(0.01)
