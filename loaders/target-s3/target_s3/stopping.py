"""A graceful stop on SIGINT/SIGTERM: the input ends, every object is completed, then STATE.

The SDK's own handler drains the sinks inside the signal handler and exits 0: it may
run while a record is half written into a gzip stream or a part is being uploaded, and
a second signal (Ctrl-C reaches every process of the terminal's group, and ``meltano
run`` then sends SIGTERM to both plugins as well) re-enters it, raising ``SystemExit``
in the middle of the first drain, whose uploads are then aborted: the run kept
nothing, and no STATE left the target.

Here the signal only ends the *input*: while the target is blocked reading a line,
the read is interrupted; while it is processing one, the input ends after it. The
SDK's ordinary end of input follows: every sink is drained (each object completed on
S3), then the latest STATE received is emitted, a STATE that covers only records read
before it. Further signals are ignored.

After a signal the input is still read while it keeps coming (``linger_idle_seconds``
of silence ends it, ``linger_max_seconds`` at most): the tap, told to stop as well,
sends the STATE of the partitions it finished after its last periodic STATE, then
ends. ``meltano run`` never closes the target's input when it terminates a
pipeline, so the silence, not an end of file, ends that wait.
"""

from __future__ import annotations

import errno
import fcntl
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


class _InputEnded(BaseException):
    """Raised by the handlers only while a read is blocked (nothing half processed)."""


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
        self._reading = False
        self._over = False
        self._deadline = 0.0
        self._previous: dict[int, t.Any] = {}

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number after a stop (130 SIGINT, 143 SIGTERM), else None."""
        return None if self.signum is None else 128 + self.signum

    def install(self) -> None:
        """Take SIGINT, SIGTERM and SIGALRM (the linger) until the target takes the first two.

        The SDK installs its own SIGINT/SIGTERM handler when the target is built: the
        target's ``_handle_termination`` hands the signal to :meth:`on_stop`.
        """
        for signum, handler in (
            (signal.SIGINT, self.on_stop),
            (signal.SIGTERM, self.on_stop),
            (signal.SIGALRM, self._on_silence),
        ):
            self._previous[signum] = signal.signal(signum, handler)

    def uninstall(self) -> None:
        """Give the signals back to their earlier handlers."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __iter__(self) -> Iterator[str]:
        """Each line; ends at EOF or after a stop."""
        while not self._over:
            # The handlers raise only between these two assignments: a line is either
            # read whole and processed, or not taken at all.
            try:
                self._reading = True
                line = self.source.readline()
                self._reading = False
            except _InputEnded:
                return
            if not line:
                return
            if self.signum is not None:
                self._arm()
            yield line

    def on_stop(self, signum: int, _frame: FrameType | None) -> None:
        """End the input (after the linger); later signals are ignored."""
        if self.signum is not None:
            return  # already stopping: a second signal must not cut the drain short
        self.signum = signum
        self._deadline = time.monotonic() + self.linger_max
        sys.stderr.write(
            f"Received {signal.Signals(signum).name}: reading what the tap still sends "
            f"(until {self.linger_idle:g} s of silence), then completing every object "
            "and emitting the last STATE received.\n"
        )
        self._arm()

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._end()
            return
        signal.setitimer(signal.ITIMER_REAL, min(self.linger_idle, left))

    def _on_silence(self, _signum: int, _frame: FrameType | None) -> None:
        self._end()

    def _end(self) -> None:
        self._over = True
        if self._reading:
            raise _InputEnded


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
