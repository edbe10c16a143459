"""The JSONL sink: one S3 object per batch of a stream, streamed from memory."""

from __future__ import annotations

import typing as t

import fastjsonschema
import msgspec
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override

from target_s3.upload import MIB, S3ObjectWriter

if t.TYPE_CHECKING:
    from singer_sdk.target_base import Target


class ObjectStore(t.Protocol):
    """What a sink needs of its target (``TargetS3``): the run's S3 client and naming."""

    @property
    def s3_client(self) -> t.Any:  # noqa: ANN401 - boto3 clients are dynamically typed
        """The S3 client of the run."""
        ...

    open_writers: set[S3ObjectWriter]  # uploads to abort if the run fails

    def object_key(self, stream: str, *, gzip: bool) -> str:
        """A new object name for a batch of ``stream``."""
        ...


# Decimals (the SDK parses JSON numbers as Decimal) stay JSON numbers.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


class FastJSONSchemaValidator(BaseJSONSchemaValidator):
    """Record validation compiled to Python (fastjsonschema): ~10x the SDK default's speed.

    Formats are not checked; types, required keys and structure are.
    """

    def __init__(self, schema: dict[str, t.Any]) -> None:
        """Compile the stream's schema once."""
        super().__init__(schema)
        try:
            self._validate = fastjsonschema.compile(
                schema, formats={"date-time": ".*", "date": ".*"}
            )
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            msg = f"Schema Validation Error: {exc}"
            raise InvalidJSONSchema(msg) from exc

    @override
    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            msg = f"Record Message Validation Error: {exc.message}"
            raise InvalidRecord(msg, record) from exc


class S3JsonlSink(BatchSink):
    """Streams a stream's records into S3 objects; each drained batch is one object.

    The SDK drains a batch when it reaches ``batch_size_rows`` records, and drains every
    sink before it emits STATE: an object is completed (visible, whole) before any
    STATE that covers its records leaves the target.
    """

    MAX_SIZE_DEFAULT = 100_000

    def __init__(self, target: Target, *args: t.Any, **kwargs: t.Any) -> None:
        """Keep the target: it owns the S3 client, the run's naming and open uploads."""
        super().__init__(target, *args, **kwargs)
        self.s3_target = t.cast("ObjectStore", target)

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return FastJSONSchemaValidator(self.schema) if self.validate_schema else None

    @override
    def start_batch(self, context: dict[str, t.Any]) -> None:
        target = self.s3_target
        gzip = self.config.get("compression", "gzip") == "gzip"
        writer = S3ObjectWriter(
            target.s3_client,
            self.config["bucket"],
            target.object_key(self.stream_name, gzip=gzip),
            part_size=int(self.config.get("buffer_size_mib", 16)) * MIB,
            gzip_level=int(self.config.get("gzip_level", 6)) if gzip else None,
        )
        target.open_writers.add(writer)
        context["writer"] = writer

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        context["writer"].write(_ENCODER.encode(record) + b"\n")

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        writer: S3ObjectWriter | None = context.get("writer")
        if writer is None:
            return
        writer.complete()
        self.s3_target.open_writers.discard(writer)
