"""Every private singer-sdk member tap-asos and its loader lean on, with why.

singer-sdk may rename a private member in any release.  Each use is listed here with
where it is made and why no public hook does the job; :func:`missing` names those an
installed SDK lacks, and ``tests/test_sdk_internals.py`` fails with that list (it runs
in ``make test-sdk-latest`` against the newest SDK too).  Checked on singer-sdk 0.54.9.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

CHECKED_ON = ("0.54.9",)
# Replaced by public hooks since (issue 17): helpers._util.load_json and
# plugin_base._ConfigInput (invoke now calls Tap.invoke), Stream._tap (the tap passed
# to __init__), RESTStream._prepare_request (build_prepared_request), and
# Stream._write_schema_message (the message writer drops a repeated SCHEMA).  Since
# issue 31: PluginBase._validate_config and _config (fractional settings are typed
# number-or-string in the schema and read by Settings), RESTStream._request
# (AsosStream.send_request: requests_session.send, the SDK's metric point through
# singer_sdk.metrics, validate_response; under request_decorator), and
# plugin_base._ConfigInput (cb_config returns the tap's own ConfigInput).


@dataclass(frozen=True)
class Internal:
    """One private member in use: ``owner`` (module or class path) and ``name``."""

    owner: str
    name: str
    used_in: str
    why: str
    on_instances: bool = False  # set in __init__, not a class attribute


INTERNALS = (
    Internal(
        "singer_sdk.streams.core.Stream",
        "_generate_record_messages",
        "tap_asos/client.py",
        "the per-record fast path (no selection-mask walk when everything is selected): "
        "17 % less CPU on a 30,000-product listing snapshot (farm-bench, 2026-11-26)",
    ),
    Internal(
        "singer_sdk.streams.core.Stream",
        "_stream_version",
        "tap_asos/client.py _generate_record_messages",
        "the record message's version, as the SDK's own path sets it",
        on_instances=True,
    ),
    Internal(
        "singer_sdk.target_base.Target",
        "_MAX_RECORD_AGE_IN_MINUTES",
        "loaders/target-s3/target_s3/target.py",
        "the loader's max_batch_age_seconds setting; the SDK has no setting for it yet "
        "(meltano/sdk issue 2692)",
    ),
)

# SDK log messages the tap filters out, matched on their text (see TapAsos.__init__).
FILTERED_MESSAGES = ("assumed to be unsorted",)


def _resolve(path: str) -> object | None:
    """A module, or a class inside one, by dotted path; None if it is gone."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name, None)
            if found is None:
                return None
        return found
    return None


def missing(instances: dict[str, object] | None = None) -> list[Internal]:
    """The internals the installed SDK lacks (``instances``: owner path -> an instance)."""
    gone = []
    for internal in INTERNALS:
        owner = _resolve(internal.owner)
        if internal.on_instances:
            owner = (instances or {}).get(internal.owner)
            if owner is None:
                continue  # checked only where the caller gives an instance
        if owner is None or not hasattr(owner, internal.name):
            gone.append(internal)
    return gone
