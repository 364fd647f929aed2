"""``sources.yaml``: where it is found, what it may contain, and the ``Config`` built from it.

The file is validated as a whole and every problem is reported with file, line and field, so a
press officer can fix them all in one pass. Nothing is written before the file is valid.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, localedata
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor import kinds
from monitor.alerts.rules import STORIES, AlertChannel, AlertRule, QuietHours
from monitor.errors import ConfigError, Problem
from monitor.formats import GroupBy
from monitor.kinds.telegram import MAX_PAGES as TELEGRAM_MAX_PAGES
from monitor.kinds.telegram import check_channel, check_preview_url, preview_url
from monitor.models import TELEGRAM_PAGES, Source, SourceKind
from monitor.schedule import SchedulePolicy, digest_trigger
from monitor.settings import FetchPolicy, SmtpSettings, Webhook
from monitor.urls import is_http_url
from monitor.yamlfile import field_name, line_of, read_yaml, validate

UTC_ZONE = ZoneInfo("UTC")
ENV_VAR = "MONITOR_CONFIG"
DEFAULT_FILE = "sources.yaml"
DEFAULT_STORAGE = "storage/monitor.db"
DEFAULT_REPORTS = "reports/"
DEFAULT_INTERVAL = "1h"

_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$"
)
# CLDR territories that are not ISO 3166-1 countries (EU, UN, "unknown region", ...).
_NOT_ISO = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})  # fmt: skip
_COUNTRIES = frozenset(
    str(code)
    for code in Locale("en").territories
    if re.fullmatch(r"[A-Z]{2}", str(code)) and str(code) not in _NOT_ISO
)


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"2h"``, ``"1h30m"``, ``"1d"``, ``"90s"``, ``"0.5s"``; a unit is required."""
    match = _DURATION.match(text)
    if not text.strip() or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write e.g. 30m, 2h, 1h30m or 1d")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups()[:3])
    seconds = float(match.group(4) or 0)
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


class _SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1)
    # Before url and channel, which are checked by kind.
    kind: SourceKind = SourceKind.FEED
    channel: str | None = None  # kind telegram: the channel's name, standing for its url
    # Validated when absent too: a telegram channel gives it; every other source needs it.
    url: str = Field(default="", validate_default=True)
    language: str | None = None
    country: str | None = None
    enabled: bool = True
    interval: str = DEFAULT_INTERVAL
    selector: str | None = None
    pattern: str | None = None
    pages: int | None = Field(default=None, ge=1, le=TELEGRAM_MAX_PAGES)
    robots: bool = True
    adaptive: bool = True

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.listing import check_selector  # lxml: only for a listing source

            check_selector(value)
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.listing import check_pattern

            check_pattern(value)
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return check_channel(value) if value is not None else None

    @model_validator(mode="after")
    def _kind_needs(self) -> _SourceModel:
        problem = kinds.check(
            self.kind,
            {
                "selector": self.selector,
                "pattern": self.pattern,
                "channel": self.channel,
                "pages": self.pages,
            },
        )
        if problem:
            raise ValueError(problem)
        return self

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        kind, channel = info.data.get("kind"), info.data.get("channel")
        telegram = kind is SourceKind.TELEGRAM
        if not value:
            if telegram and channel:
                return preview_url(channel)
            if telegram and "channel" not in info.data:
                return value  # the channel's own mistake is reported
            if telegram:
                raise ValueError(
                    "required field is missing: a telegram source needs 'channel: <name>' "
                    "or 'url: https://t.me/s/<name>'"
                )
            if channel:
                raise ValueError(
                    "required field is missing ('channel' names a Telegram channel: add "
                    "'kind: telegram')"
                )
            raise ValueError("required field is missing")
        if not is_http_url(value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if telegram and channel:
            raise ValueError("'channel' stands for the url: give one of them, not both")
        if telegram:
            check_preview_url(value)
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.lower()
        if not re.fullmatch(r"[a-z]{2,3}", code) or not localedata.exists(code):
            raise ValueError(f"{value!r} is not an ISO 639 language code (e.g. en, ru, az)")
        return code

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code not in _COUNTRIES:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. AZ, TR)")
        return code

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} has no unit; write e.g. 30m, 2h or 1d")
        if parse_duration(value) < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value


def _duration_seconds(value: object) -> float:
    if isinstance(value, float):
        return value  # a default, already in seconds
    if not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit; write e.g. 30s or 2m")
    return parse_duration(value).total_seconds()


def _positive_duration(value: object) -> float:
    seconds = _duration_seconds(value)
    if seconds <= 0:
        raise ValueError("must be longer than 0s")
    return seconds


# A duration written with a unit ("30s", "2m"), held as seconds.
Seconds = Annotated[float, BeforeValidator(_positive_duration)]
# The same, where 0s (none) is allowed.
SecondsOrNone = Annotated[float, BeforeValidator(_duration_seconds)]


def _check_http_url(value: str) -> str:
    if not is_http_url(value):
        raise ValueError("is not an http(s) URL")
    return value


class _FetchModel(BaseModel):
    """HTTP limits; the defaults suit news sites on the public internet."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    timeout: Seconds = 30.0  # a whole request, body included
    connect_timeout: Seconds = 10.0
    retries: int = Field(default=2, ge=0, le=10)
    per_host: int = Field(default=2, ge=1, le=32)
    connections: int = Field(default=64, ge=1, le=1024)  # requests in flight over all sites
    host_interval: SecondsOrNone = 0.5  # between the starts of two requests to one host
    max_body_mb: float = Field(default=8, gt=0, le=512)
    # Who runs this monitor, for the User-Agent: an address or page where a site's
    # administrator can reach you.
    contact: str | None = Field(default=None, min_length=3, pattern=r"^[^\s()]+$")
    # Follow links from sources on the internet to private, loopback and link-local addresses.
    private_networks: bool = False

    def policy(self) -> FetchPolicy:
        defaults = FetchPolicy()
        return FetchPolicy(
            connect_timeout=self.connect_timeout,
            total_timeout=self.timeout,
            retries=self.retries,
            per_host=self.per_host,
            connections=self.connections,
            host_interval=self.host_interval,
            allow_private=self.private_networks,
            max_body_bytes=int(self.max_body_mb * 1024 * 1024),
            user_agent=(
                f"{defaults.user_agent[:-1]}; +{self.contact})"
                if self.contact
                else defaults.user_agent
            ),
        )


class _ScheduleModel(BaseModel):
    """How often sources are fetched (``monitor serve`` and ``monitor run`` alike)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    min_interval: Seconds = 300.0
    max_interval: Seconds = 86400.0
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    grace: Seconds = 3600.0
    lease: Seconds = 300.0

    @model_validator(mode="after")
    def _bounds(self) -> _ScheduleModel:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval is longer than max_interval")
        return self

    def policy(self) -> SchedulePolicy:
        return SchedulePolicy(
            min_interval=timedelta(seconds=self.min_interval),
            max_interval=timedelta(seconds=self.max_interval),
            jitter=self.jitter,
            grace=timedelta(seconds=self.grace),
            lease=timedelta(seconds=self.lease),
        )


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class _EmailModel(BaseModel):
    """SMTP delivery. The password is never written here: ``password_env`` names the
    environment variable that holds it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    sender: str
    recipients: list[str] = Field(min_length=1)
    timeout: Seconds = 30.0

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _ADDRESS.match(value.rsplit("<", 1)[-1].rstrip(">").strip()):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ADDRESS.match(v)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(map(repr, bad))}")
        return value

    @model_validator(mode="after")
    def _password_with_user(self) -> _EmailModel:
        if self.user and not self.password_env:
            raise ValueError(
                "user is set: name the environment variable holding the password in password_env"
            )
        return self

    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.host,
            sender=self.sender,
            recipients=tuple(self.recipients),
            port=self.port,
            security=self.security,
            user=self.user,
            password_env=self.password_env,
            timeout=self.timeout,
        )


class _WebhookModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Not quoted in messages: a webhook URL often holds its secret token.
    url: Annotated[str, AfterValidator(_check_http_url)]
    format: Literal["chat", "digest"] = "chat"  # a short message, or the digest's whole JSON
    timeout: Seconds = 15.0


class _DigestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    locale: Literal["en", "ru", "az"] = "en"  # language of the digest's own labels
    group_by: Literal["aspect", "country", "none"] = "aspect"
    time: str = "08:00"  # when it is sent: a time of day, or a crontab line
    day: Literal["previous", "current"] = "previous"  # the day the scheduled digest covers
    email: _EmailModel | None = None
    webhooks: list[_WebhookModel] = Field(default_factory=list)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: object) -> str:
        if isinstance(value, int):  # YAML 1.1 reads 08:00 unquoted as a sexagesimal number
            raise ValueError('write the time in quotes, e.g. "08:00"')
        if not isinstance(value, str):
            raise ValueError(f'{value!r} is not a time of day such as "08:00"')
        digest_trigger(value, UTC_ZONE)
        return value


_ENV_NAME = re.compile(r"\{env:([^}]*)\}")


class _AlertChannelModel(BaseModel):
    """One of ``webhook: URL`` (with ``format``), ``email: [addresses]`` or ``apprise: URL``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Not quoted in messages: webhook and apprise URLs often hold a secret.
    webhook: Annotated[str, AfterValidator(_check_http_url)] | None = None
    email: list[str] | None = None
    apprise: str | None = None
    format: Literal["stories", "chat"] | None = None
    timeout: Seconds = 15.0

    @field_validator("email", mode="before")
    @classmethod
    def _one_address(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value  # email: press@example.org

    @field_validator("email")
    @classmethod
    def _addresses(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("name at least one address")
            bad = [v for v in value if not _ADDRESS.match(v)]
            if bad:
                raise ValueError(f"not e-mail addresses: {', '.join(map(repr, bad))}")
        return value

    @field_validator("apprise")
    @classmethod
    def _apprise_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
            raise ValueError("is not an apprise URL such as tgram://{env:BOT_TOKEN}/CHAT_ID")
        bad = [n for n in _ENV_NAME.findall(value) if not re.fullmatch(r"[A-Za-z_]\w*", n)]
        if bad:
            raise ValueError(f"{{env:{bad[0]}}} does not name an environment variable")
        import importlib.util

        if importlib.util.find_spec("apprise") is None:
            from monitor.alerts.send import APPRISE_MISSING

            raise ValueError(APPRISE_MISSING)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> _AlertChannelModel:
        given = [n for n in ("webhook", "email", "apprise") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a channel is one of webhook: URL, email: [addresses], apprise: URL")
        if self.format is not None and self.webhook is None:
            raise ValueError("format is for a webhook channel only")
        return self

    def channel(self) -> AlertChannel:
        return AlertChannel(
            webhook=self.webhook,
            email=tuple(self.email or ()),
            apprise=self.apprise,
            format=self.format or STORIES,
            timeout=self.timeout,
        )


class _AlertModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    topic: str = "film_cooperation"
    min_score: float = Field(default=0.0, ge=0, le=1)
    countries: list[str] = Field(default_factory=list)
    aspects: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    quiet_hours: str | None = None
    max_per_hour: int | None = Field(default=None, ge=1)
    channels: list[_AlertChannelModel] = Field(min_length=1)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = [c.upper() for c in value]
        bad = [c for c in codes if c not in _COUNTRIES and c != "EU"]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        return codes

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return [_SourceModel._language(v) or v for v in value]

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> object:
        if value is not None:
            if not isinstance(value, str):
                raise ValueError('write the hours in quotes, e.g. "22:00-07:00"')
            QuietHours.parse(value)
        return value

    def rule(self) -> AlertRule:
        return AlertRule(
            name=self.name,
            topic=self.topic,
            channels=tuple(c.channel() for c in self.channels),
            min_score=self.min_score,
            countries=frozenset(self.countries),
            aspects=frozenset(self.aspects),
            languages=frozenset(self.languages),
            sources=frozenset(s.casefold() for s in self.sources),
            quiet_hours=QuietHours.parse(self.quiet_hours) if self.quiet_hours else None,
            max_per_hour=self.max_per_hour,
        )


@dataclass(frozen=True)
class DigestSettings:
    locale: str = "en"
    group_by: GroupBy = "aspect"
    time: str = "08:00"
    day: str = "previous"
    email: SmtpSettings | None = None
    webhooks: tuple[Webhook, ...] = ()


def _usable_path(value: str) -> str:
    if "\0" in value:
        raise ValueError("contains a NUL character")
    if "://" not in value:
        try:
            Path(value).expanduser()
        except RuntimeError as exc:  # "~nosuchuser/..."
            raise ValueError(f"{value!r}: {exc}") from None
    return value


_FILE_MODE = re.compile(r"^0?[0-7]{3}$")


class _ReportsModel(BaseModel):
    """``reports: {path: reports/, mode: "0640"}``: the folder, and the digest files' mode when
    the umask's is not wanted (e.g. group-readable for a web server's group)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    path: str = DEFAULT_REPORTS
    mode: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _usable_path(value)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML reads 0640 as the number 416 and 640 as six hundred and forty: say how.
            raise ValueError('write the mode in quotes, as octal digits: mode: "0640"')
        if isinstance(value, str) and not _FILE_MODE.match(value.strip()):
            raise ValueError(f'{value!r} is not a file mode; use octal digits such as "0640"')
        return value


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    storage: str = DEFAULT_STORAGE
    reports: _ReportsModel = Field(default_factory=_ReportsModel)

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if "://" in value:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                url = make_url(value)
            except ArgumentError:
                raise ValueError(
                    "is not a database URL such as postgresql://user@host/db"
                ) from None
            if url.password:
                raise ValueError(
                    "holds a password: remove it and set PGPASSWORD in the environment "
                    "(or use ~/.pgpass) instead"
                )
        return _usable_path(value)

    @field_validator("reports", mode="before")
    @classmethod
    def _reports(cls, value: object) -> object:
        return {"path": value} if isinstance(value, str) else value  # reports: reports/

    timezone: str = "UTC"
    topics: list[str] = Field(default_factory=list)
    fetch: _FetchModel = Field(default_factory=_FetchModel)
    schedule: _ScheduleModel = Field(default_factory=_ScheduleModel)
    digest: _DigestModel = Field(default_factory=_DigestModel)
    sources: list[_SourceModel]  # may be empty ("sources:" or "sources: []"): a first file
    alerts: list[_AlertModel] = Field(default_factory=list)

    @field_validator("alerts", mode="before")
    @classmethod
    def _no_alerts(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("sources", mode="before")
    @classmethod
    def _no_sources_yet(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zones
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Baku, UTC)") from None
        return value

    @field_validator("topics")
    @classmethod
    def _topics_exist(cls, value: list[str], info: ValidationInfo) -> list[str]:
        base: Path = info.context["base"] if info.context else Path.cwd()
        missing = [p for p in value if not (base / p).is_file()]
        if missing:
            raise ValueError(f"topic file(s) not found: {', '.join(missing)}")
        return value


@dataclass(frozen=True)
class Config:
    path: Path
    storage_url: str  # SQLAlchemy URL
    reports_dir: Path
    timezone: ZoneInfo
    sources: tuple[Source, ...]
    topic_files: tuple[Path, ...] = ()
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    digest: DigestSettings = field(default_factory=DigestSettings)
    reports_mode: int | None = None  # the digest files' mode; None: what the umask allows
    alerts: tuple[AlertRule, ...] = ()

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when storage is SQLite on disk."""
        prefix = "sqlite:///"
        if self.storage_url.startswith(prefix) and self.storage_url != prefix + ":memory:":
            return Path(self.storage_url[len(prefix) :])
        return None


def nothing_to_check(config: Config) -> str:
    """What a cycle says when no source is enabled: a first configuration, or every outlet
    paused."""
    paused = len(config.sources)
    return (
        f"nothing to check: {config.path} has no enabled source"
        + (f" ({paused} disabled: delete their `enabled: false`)" if paused else "")
        + "; add one with: monitor sources add URL"
    )


def find_config(explicit: str | os.PathLike[str] | None, env: dict[str, str] | None = None) -> Path:
    """``--config`` first, then ``$MONITOR_CONFIG``, then ``./sources.yaml``."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    return Path(DEFAULT_FILE)


def storage_url(value: str, base: Path) -> str:
    """A SQLAlchemy URL as given, or a file path (relative to the config's folder) as SQLite."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    return f"sqlite:///{(path if path.is_absolute() else base / path).resolve()}"


def load_config(path: Path) -> Config:
    """Read and validate ``path``. Raises ConfigError listing every problem found."""
    document = read_yaml(path)
    if document is not None and not isinstance(document, dict):
        raise ConfigError([Problem(str(path), 1, "", "expected a mapping with a 'sources' list")])
    base = path.resolve().parent
    problems = _duplicates(document, path)
    try:
        model = validate(_ConfigModel, document, path, context={"base": base})
    except ConfigError as exc:
        problems.extend(exc.problems)
    else:
        problems.extend(_alert_problems(document, model, path, base))
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    sources = tuple(
        Source(
            name=s.name,
            url=s.url,
            language=s.language,
            country=s.country,
            enabled=s.enabled,
            interval=parse_duration(s.interval),
            kind=s.kind,
            selector=s.selector,
            pattern=s.pattern,
            robots=s.robots,
            adaptive=s.adaptive,
            pages=s.pages or TELEGRAM_PAGES,
        )
        for s in model.sources
    )
    reports = Path(model.reports.path).expanduser()
    return Config(
        path=path,
        storage_url=storage_url(model.storage, base),
        reports_dir=reports if reports.is_absolute() else base / reports,
        reports_mode=int(model.reports.mode, 8) if model.reports.mode else None,
        timezone=ZoneInfo(model.timezone),
        sources=sources,
        topic_files=tuple(base / t for t in model.topics),
        fetch=model.fetch.policy(),
        schedule=model.schedule.policy(),
        digest=DigestSettings(
            locale=model.digest.locale,
            group_by=None if model.digest.group_by == "none" else model.digest.group_by,
            time=model.digest.time,
            day=model.digest.day,
            email=model.digest.email.settings() if model.digest.email else None,
            webhooks=tuple(Webhook(w.url, w.format, w.timeout) for w in model.digest.webhooks),
        ),
        alerts=tuple(a.rule() for a in model.alerts),
    )


def _alert_problems(document: Any, model: _ConfigModel, path: Path, base: Path) -> list[Problem]:
    """What an alert rule names that the rest of the file must hold: its topic and aspects,
    the sources, the mail server of an e-mail channel; and a name used once."""
    if not model.alerts:
        return []
    from monitor.tag.rules import topic_aspects

    topics = topic_aspects([base / t for t in model.topics])
    names = {s.name.casefold() for s in model.sources}
    problems: list[Problem] = []

    def problem(where: tuple[str | int, ...], message: str) -> None:
        key = ("alerts", *where)
        problems.append(
            Problem(str(path), line_of(document, key), field_name(document, key), message)
        )

    seen: dict[str, int] = {}
    for i, alert in enumerate(model.alerts):
        if alert.name.casefold() in seen:
            first = line_of(document, ("alerts", seen[alert.name.casefold()], "name"))
            problem((i, "name"), f"duplicate alert name (first used at line {first})")
        seen.setdefault(alert.name.casefold(), i)
        if alert.topic not in topics:
            known = ", ".join(sorted(topics))
            problem((i, "topic"), f"{alert.topic!r} is not a topic; known: {known}")
        elif unknown := [a for a in alert.aspects if a not in topics[alert.topic]]:
            known = ", ".join(sorted(topics[alert.topic]))
            problem(
                (i, "aspects"),
                f"not aspects of {alert.topic}: {', '.join(unknown)}; known: {known}",
            )
        if missing := [s for s in alert.sources if s.casefold() not in names]:
            problem((i, "sources"), f"no source named {', '.join(map(repr, missing))} in sources")
        for j, channel in enumerate(alert.channels):
            if channel.email is not None and model.digest.email is None:
                problem(
                    (i, "channels", j, "email"),
                    "e-mail alerts are sent through digest.email's server: configure digest.email",
                )
    return problems


def _duplicates(document: Any, path: Path) -> list[Problem]:
    """Source names (case-insensitive) and URLs must be unique; checked on the raw document so
    that duplicates are reported together with every other problem."""
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return []
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        for key_name in ("name", "url"):
            value = entry.get(key_name)
            if key_name == "url" and value is None and isinstance(entry.get("channel"), str):
                value = preview_url(entry["channel"].strip().removeprefix("@"))
            if not isinstance(value, str):
                continue
            key = (key_name, value.strip().casefold() if key_name == "name" else value.strip())
            if key in seen:
                first = line_of(document, ("sources", seen[key], key_name))
                problems.append(
                    Problem(
                        str(path),
                        line_of(document, ("sources", i, key_name)),
                        field_name(document, ("sources", i, key_name)),
                        f"duplicate source {key_name} (first used at line {first})",
                    )
                )
            else:
                seen[key] = i
    return problems
