"""A wall-clock instant with nanoseconds, as Go's ``time.Time`` writes it (RFC 3339)."""

from __future__ import annotations

import datetime as _dt
import re
import time

import attrs

__all__ = ["Timestamp"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)
_NS = 1_000_000_000


@attrs.frozen(eq=False)
class Timestamp:
    """An instant as nanoseconds since the epoch, plus the text it is written as.

    Python's :class:`~datetime.datetime` stops at microseconds; runc's ``created`` has
    nanoseconds. Equality and ordering compare the instant; ``text`` (the exact RFC 3339
    string read, or Go's ``RFC3339Nano`` rendering in UTC for a new one) is what is written.
    """

    unix_ns: int
    text: str

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Parse an RFC 3339 time with up to nine fractional digits; keep ``text`` verbatim."""
        m = _RFC3339.fullmatch(text)
        if m is None:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        frac, zone = m.group(7) or "", m.group(8)
        if zone in ("Z", "z"):
            tz = _dt.UTC
        else:
            sign = 1 if zone[0] == "+" else -1
            offset = _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            tz = _dt.timezone(sign * offset)
        whole = _dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
        ns = int(frac.ljust(9, "0")) if frac else 0
        return cls(int(whole.timestamp()) * _NS + ns, text)

    @classmethod
    def from_unix_ns(cls, unix_ns: int) -> Timestamp:
        """The instant ``unix_ns`` written the way Go writes ``time.Time.UTC()``."""
        secs, ns = divmod(unix_ns, _NS)
        whole = _dt.datetime.fromtimestamp(secs, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        frac = f".{ns:09d}".rstrip("0") if ns else ""
        return cls(unix_ns, f"{whole}{frac}Z")

    @classmethod
    def now(cls) -> Timestamp:
        """The current time (``time.time_ns()``), in UTC."""
        return cls.from_unix_ns(time.time_ns())

    @classmethod
    def from_datetime(cls, value: _dt.datetime) -> Timestamp:
        """Convert an aware :class:`~datetime.datetime` (microsecond precision)."""
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no defined instant; attach a tzinfo")
        delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return cls.from_unix_ns(micros * 1000)

    def to_datetime(self) -> _dt.datetime:
        """This instant as an aware UTC datetime (nanoseconds truncated to microseconds)."""
        secs, ns = divmod(self.unix_ns, _NS)
        base = _dt.datetime.fromtimestamp(secs, _dt.UTC)
        return base + _dt.timedelta(microseconds=ns // 1000)

    @property
    def nanosecond(self) -> int:
        """The nanoseconds within the second (0..999999999)."""
        return self.unix_ns % _NS

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timestamp):
            return NotImplemented
        return self.unix_ns == other.unix_ns

    def __lt__(self, other: Timestamp) -> bool:
        return self.unix_ns < other.unix_ns

    def __hash__(self) -> int:
        return hash(self.unix_ns)
