"""Build the effective ``Settings`` from defaults, a TOML file, environment, options.

Precedence, lowest to highest (written down here, in the README and in ``--help``):

    default  <  config file  <  F1DASH_* environment variable  <  command-line option

An option wins only when it was typed on the command line; an option left at its
default never hides a value from the file or the environment.

The config file is ``config.toml`` in the platform's user config directory
(``platformdirs.user_config_dir("f1dash-tui")``), or the file named by ``--config`` or
``F1DASH_CONFIG``. Its keys are the dotted names in ``KEYS`` (``[store] kind = ...``,
``[store.heavydb] host = ...``, ``[log] file = ...``). Each key's environment variable
is ``F1DASH_`` + its innermost section + its name, upper-case: ``store.kind`` is
``F1DASH_STORE_KIND``, ``store.heavydb.password`` is ``F1DASH_HEAVYDB_PASSWORD``.

Validation is strict: an unknown key is an error naming the nearest valid key, a value
of the wrong type is an error naming the key, the expected type and where it came from.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from f1dash_tui.errors import ConfigError
from f1dash_tui.settings import (
    APP_NAME,
    MAX_LIVE_POLL_INTERVAL_S,
    MAX_SLOW_POLL_INTERVAL_S,
    MIN_POLL_INTERVAL_S,
    Settings,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_ENV_VAR = "F1DASH_CONFIG"
PASSWORD_KEY = "store.heavydb.password"
REDACTED = "<redacted>"

# The sources a value can come from, lowest precedence first.
SOURCE_DEFAULT = "default"
SOURCE_FILE = "file"
SOURCE_ENV = "env"
SOURCE_OPTION = "option"
SOURCE_PROMPT = "prompt"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def theme_names() -> tuple[str, ...]:
    """Textual's built-in theme names, read without starting an app (empty when
    Textual is not installed: then there is no dashboard to theme either)."""
    try:
        from textual.theme import BUILTIN_THEMES
    except ImportError:
        return ()
    return tuple(sorted(BUILTIN_THEMES))


@dataclass(frozen=True)
class KeySpec:
    """One configuration key: where it lives in ``Settings`` and what it accepts."""

    key: str
    """Dotted name in the TOML file, e.g. ``store.heavydb.port``."""
    attribute_path: tuple[str, ...]
    """Attribute path inside ``Settings``."""
    value_type: str
    """One of: str, int, float, bool, path, optional_path, str_list."""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False
    ip_addresses: bool = False
    """A str_list whose items must be IP addresses."""
    option: str = ""
    """The command-line option that sets it, if any (never for secrets)."""
    help: str = ""
    choices_from: Callable[[], tuple[str, ...]] | None = None
    """The valid values when they are only known at run time (installed themes)."""

    @property
    def section(self) -> str:
        return self.key.rpartition(".")[0]

    @property
    def env_var(self) -> str:
        innermost_section = self.section.rpartition(".")[2]
        name = self.key.rpartition(".")[2]
        return f"F1DASH_{innermost_section}_{name}".upper()


KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "store.kind",
        ("store", "kind"),
        "str",
        choices=("sqlite", "heavydb"),
        option="--store",
        help="sqlite (embedded file, the default) or heavydb (a HeavyDB server)",
    ),
    KeySpec(
        "store.sqlite_path",
        ("store", "sqlite_path"),
        "path",
        option="--sqlite-path",
        help="the SQLite store file",
    ),
    KeySpec(
        "store.heavydb.host",
        ("store", "heavydb", "host"),
        "str",
        option="--heavydb-host",
        help="HeavyDB server host name or address",
    ),
    KeySpec(
        "store.heavydb.port",
        ("store", "heavydb", "port"),
        "int",
        minimum=1,
        maximum=65535,
        option="--heavydb-port",
        help="HeavyDB port (6274 binary, 6278 http/https)",
    ),
    KeySpec(
        "store.heavydb.user",
        ("store", "heavydb", "user"),
        "str",
        option="--heavydb-user",
        help="HeavyDB user",
    ),
    KeySpec(
        PASSWORD_KEY,
        ("store", "heavydb", "password"),
        "str",
        secret=True,
        help="HeavyDB password: file, F1DASH_HEAVYDB_PASSWORD or a prompt; no flag",
    ),
    KeySpec(
        "store.heavydb.database",
        ("store", "heavydb", "database"),
        "str",
        option="--heavydb-database",
        help="HeavyDB database name",
    ),
    KeySpec(
        "store.heavydb.protocol",
        ("store", "heavydb", "protocol"),
        "str",
        choices=("binary", "http", "https"),
        option="--heavydb-protocol",
        help="HeavyDB wire protocol",
    ),
    KeySpec(
        "store.heavydb.tls_verify",
        ("store", "heavydb", "tls_verify"),
        "bool",
        help="with https: verify the server's certificate",
    ),
    KeySpec(
        "store.heavydb.tls_ca_file",
        ("store", "heavydb", "tls_ca_file"),
        "str",
        help="with https: CA bundle to verify against (empty: the system's)",
    ),
    KeySpec(
        "store.heavydb.connect_timeout_s",
        ("store", "heavydb", "connect_timeout_s"),
        "float",
        minimum=0.1,
        help="seconds to wait for the HeavyDB server",
    ),
    KeySpec(
        "ingest.listen_host",
        ("ingest", "listen_host"),
        "str",
        help="address the UDP listener binds (0.0.0.0: every interface)",
    ),
    KeySpec(
        "ingest.listen_port",
        ("ingest", "listen_port"),
        "int",
        minimum=1,
        maximum=65535,
        help="UDP port the game sends to (the game's default is 20777)",
    ),
    KeySpec(
        "ingest.allowed_senders",
        ("ingest", "allowed_senders"),
        "str_list",
        ip_addresses=True,
        help="sender IP addresses to accept; empty accepts every sender",
    ),
    KeySpec(
        "ingest.batch_max_s",
        ("ingest", "batch_max_s"),
        "float",
        minimum=0.001,
        help="flush a write batch at least this often (seconds)",
    ),
    KeySpec(
        "ingest.batch_max_rows",
        ("ingest", "batch_max_rows"),
        "int",
        minimum=1,
        help="flush a write batch at this many rows",
    ),
    KeySpec(
        "ingest.queue_max_datagrams",
        ("ingest", "queue_max_datagrams"),
        "int",
        minimum=1,
        help="datagrams held between the listener and the writer",
    ),
    KeySpec(
        "ingest.spool_dir",
        ("ingest", "spool_dir"),
        "path",
        help="where rows wait while a HeavyDB server is unreachable",
    ),
    KeySpec(
        "ui.live_poll_interval_s",
        ("ui", "live_poll_interval_s"),
        "float",
        minimum=MIN_POLL_INTERVAL_S,
        maximum=MAX_LIVE_POLL_INTERVAL_S,
        option="--poll-interval",
        help="seconds between polls of the live panels",
    ),
    KeySpec(
        "ui.slow_poll_interval_s",
        ("ui", "slow_poll_interval_s"),
        "float",
        minimum=MIN_POLL_INTERVAL_S,
        maximum=MAX_SLOW_POLL_INTERVAL_S,
        help="seconds between polls of best laps and pipeline health",
    ),
    KeySpec(
        "ui.theme",
        ("ui", "theme"),
        "str",
        option="--theme",
        help="a Textual theme name",
        choices_from=theme_names,
    ),
    KeySpec(
        "ui.units",
        ("ui", "units"),
        "str",
        choices=("metric", "imperial"),
        help="metric (km/h, degC) or imperial (mph, degF)",
    ),
    KeySpec(
        "log.file",
        ("log_file",),
        "optional_path",
        option="--log-file",
        help="log file (empty: no log); never the terminal",
    ),
    KeySpec(
        "log.level",
        ("log_level",),
        "str",
        choices=LOG_LEVELS,
        option="--log-level",
        help="log level",
    ),
)

KEYS_BY_NAME: dict[str, KeySpec] = {spec.key: spec for spec in KEYS}
SECTIONS: tuple[str, ...] = tuple(sorted({spec.section for spec in KEYS}))

_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "path": "a path string",
    "optional_path": "a path string",
    "str_list": "a list of strings",
}


@dataclass(frozen=True)
class ValueSource:
    """Where one effective value came from."""

    kind: str
    """default, file, env, option or prompt."""
    detail: str = ""
    """The file path, environment variable or option name."""

    def describe(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


@dataclass(frozen=True)
class LoadedConfig:
    """The effective settings plus where each value came from."""

    settings: Settings
    sources: Mapping[str, ValueSource]
    config_path: Path
    config_file_found: bool
    warnings: tuple[str, ...] = ()

    def with_password(self, password: str) -> LoadedConfig:
        """A copy whose HeavyDB password was typed at a prompt."""
        settings = _replace_attribute(
            self.settings, KEYS_BY_NAME[PASSWORD_KEY].attribute_path, password
        )
        sources = dict(self.sources)
        sources[PASSWORD_KEY] = ValueSource(SOURCE_PROMPT)
        return dataclasses.replace(self, settings=settings, sources=sources)


def default_config_path() -> Path:
    """``config.toml`` in the platform's user config directory."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def resolve_config_path(
    option_path: Path | None, environ: Mapping[str, str]
) -> tuple[Path, bool]:
    """The config file to read and whether the user named it (then it must exist)."""
    if option_path is not None:
        return option_path.expanduser(), True
    from_env = environ.get(CONFIG_ENV_VAR, "")
    if from_env:
        return Path(from_env).expanduser(), True
    return default_config_path(), False


def load_config(
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    option_flags: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Apply default < file < environment < options and validate every value.

    ``options`` maps dotted keys to values typed on the command line; pass only the
    options the user actually typed. ``option_flags`` names the flag that set a key
    when it is not the key's own option (``--listen`` sets ``ingest.listen_port``).
    """
    environ = os.environ if environ is None else environ
    path, named_by_user = resolve_config_path(config_path, environ)
    defaults = Settings()
    values: dict[str, Any] = {
        spec.key: _get_attribute(defaults, spec.attribute_path) for spec in KEYS
    }
    sources: dict[str, ValueSource] = {
        spec.key: ValueSource(SOURCE_DEFAULT) for spec in KEYS
    }
    warnings: list[str] = []

    file_found = path.is_file()
    if named_by_user and path.is_dir():
        named_by = "--config" if config_path is not None else CONFIG_ENV_VAR
        raise ConfigError(
            f"config file {path} is a folder, not a file: point {named_by} at a TOML "
            f"file (such as {path / 'config.toml'})"
        )
    if named_by_user and not file_found:
        raise ConfigError(f"config file {path} does not exist")
    if file_found:
        file_values = _read_toml(path)
        for key, raw in file_values.items():
            values[key] = _coerce(KEYS_BY_NAME[key], raw, where=str(path))
            sources[key] = ValueSource(SOURCE_FILE, str(path))
        if file_values.get(PASSWORD_KEY) and _readable_by_others(path):
            warnings.append(
                f"warning: {path} holds the HeavyDB password and other users can "
                f"read it; run: chmod 600 {path}"
            )

    warnings.extend(_unknown_env_warnings(environ))
    for spec in KEYS:
        raw_env = environ.get(spec.env_var)
        if raw_env is None:
            continue
        values[spec.key] = _coerce_env(spec, raw_env)
        sources[spec.key] = ValueSource(SOURCE_ENV, spec.env_var)

    for key, value in (options or {}).items():
        spec = KEYS_BY_NAME[key]
        if spec.secret:
            raise ConfigError(f"{key} cannot be set on the command line")
        flag = (option_flags or {}).get(key, spec.option)
        values[key] = _coerce(spec, value, where=f"option {flag}")
        sources[key] = ValueSource(SOURCE_OPTION, flag)

    settings = defaults
    for spec in KEYS:
        settings = _replace_attribute(settings, spec.attribute_path, values[spec.key])
    return LoadedConfig(settings, sources, path, file_found, tuple(warnings))


def default_value(key: str) -> Any:
    """The built-in default of one key (read from the ``Settings`` dataclasses)."""
    return _get_attribute(Settings(), KEYS_BY_NAME[key].attribute_path)


def effective_values(loaded: LoadedConfig) -> list[tuple[str, str, str]]:
    """(key, shown value, source) for every key, secrets redacted."""
    rows = []
    for spec in KEYS:
        value = _get_attribute(loaded.settings, spec.attribute_path)
        shown = _redact(spec, value)
        rows.append((spec.key, shown, loaded.sources[spec.key].describe()))
    return rows


def _redact(spec: KeySpec, value: Any) -> str:
    if spec.secret:
        return '""' if not value else REDACTED
    return _toml_literal(value)


def _toml_literal(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_literal(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


UTF8_BOM = b"\xef\xbb\xbf"
"""Some Windows editors start UTF-8 files with it; TOML itself does not allow it."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"cannot read config file {path}: {error.strerror}"
        ) from error
    try:
        text = data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not UTF-8 text: {error}") from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from error
    flat: dict[str, Any] = {}
    _flatten(document, "", path, flat)
    return flat


def _flatten(table: Mapping[str, Any], prefix: str, path: Path, out: dict) -> None:
    for name, value in table.items():
        dotted = f"{prefix}{name}"
        if dotted in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {dotted} must be a table ([{dotted}])")
            _flatten(value, f"{dotted}.", path, out)
        elif dotted in KEYS_BY_NAME:
            out[dotted] = value
        elif isinstance(value, dict) and value:
            # An unknown table: name its first key, whose nearest match says most.
            _flatten(value, f"{dotted}.", path, out)
        else:
            raise ConfigError(_unknown_key_message(dotted, path))


def _unknown_key_message(dotted: str, path: Path) -> str:
    candidates = [*KEYS_BY_NAME, *SECTIONS]
    nearest = difflib.get_close_matches(dotted, candidates, n=1, cutoff=0.6)
    if not nearest:
        # A misspelt section hides a valid key name: compare the last part alone.
        last = dotted.rpartition(".")[2]
        by_name = {spec.key.rpartition(".")[2]: spec.key for spec in KEYS}
        close_names = difflib.get_close_matches(last, by_name, n=1, cutoff=0.6)
        nearest = [by_name[close_names[0]]] if close_names else []
    message = f"{path}: unknown key {dotted!r}"
    if nearest:
        suggestion = nearest[0]
        if suggestion in SECTIONS:
            message += f"; did you mean the section [{suggestion}]?"
        else:
            message += f"; did you mean {suggestion!r}?"
    else:
        message += "; see config.toml.example for the valid keys"
    return message


ENV_PREFIX = "F1DASH_"
OTHER_ENV_VARS = frozenset({CONFIG_ENV_VAR})
"""F1DASH_* variables that are not configuration keys but are not typos either."""
OTHER_ENV_PREFIXES = ("F1DASH_TEST_", "F1DASH_BENCH_")
"""Knobs of the test suite and the benchmark scripts."""


def _unknown_env_warnings(environ: Mapping[str, str]) -> list[str]:
    """A warning per F1DASH_* variable that sets nothing (a typo is silently ignored
    otherwise), naming the nearest real one."""
    known = {spec.env_var for spec in KEYS} | OTHER_ENV_VARS
    warnings = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        if name.startswith(OTHER_ENV_PREFIXES):
            continue
        hint = _nearest_env_var(name, known)
        warnings.append(f"warning: environment variable {name} sets nothing{hint}")
    return warnings


def _nearest_env_var(name: str, known: set[str]) -> str:
    """A "did you mean" hint: first the known names holding every word typed after
    the section (F1DASH_UI_POLL -> F1DASH_UI_LIVE_POLL_INTERVAL_S, not the merely
    closest spelling F1DASH_UI_UNITS), else the closest spelling."""
    section, _, rest = name.removeprefix(ENV_PREFIX).partition("_")
    words = [word for word in rest.split("_") if word]
    prefix = f"{ENV_PREFIX}{section}_"
    holding = sorted(
        candidate
        for candidate in known
        if candidate.startswith(prefix)
        and words
        and all(word in candidate[len(prefix) :].split("_") for word in words)
    )
    if holding:
        # Two fit equally often (..._LIVE_POLL_... and ..._SLOW_POLL_...): name both.
        nearest = holding[:2]
    else:
        nearest = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {' or '.join(nearest)}?" if nearest else ""


def _coerce(spec: KeySpec, raw: Any, *, where: str) -> Any:
    """Check a value from the file or an option and convert it to the settings type."""
    expected = _TYPE_NAMES[spec.value_type]
    kind = spec.value_type
    ok = (
        (kind == "str" and isinstance(raw, str))
        or (kind == "int" and isinstance(raw, int) and not isinstance(raw, bool))
        or (
            kind == "float"
            and isinstance(raw, (int, float))
            and not isinstance(raw, bool)
        )
        or (kind == "bool" and isinstance(raw, bool))
        or (kind in ("path", "optional_path") and isinstance(raw, (str, Path)))
        or (
            kind == "str_list"
            and isinstance(raw, (list, tuple))
            and all(isinstance(item, str) for item in raw)
        )
    )
    if not ok:
        raise ConfigError(
            f"{where}: {spec.key} must be {expected}, got {_describe_value(raw)}"
        )
    return _checked(spec, raw, where)


def _coerce_env(spec: KeySpec, raw: str) -> Any:
    """Parse an environment variable's text into the key's type."""
    where = f"environment variable {spec.env_var}"
    kind = spec.value_type
    try:
        if kind == "int":
            value: Any = int(raw)
        elif kind == "float":
            value = float(raw)
        elif kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            value = lowered in ("1", "true", "yes", "on")
        elif kind == "str_list":
            value = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            value = raw
    except ValueError:
        raise ConfigError(f"{where} must be {_TYPE_NAMES[kind]}, got {raw!r}") from None
    return _checked(spec, value, where)


def _checked(spec: KeySpec, value: Any, where: str) -> Any:
    """Range and choice checks, then conversion to the dataclass field's type."""
    kind = spec.value_type
    if kind == "float" and not math.isfinite(value):
        raise ConfigError(f"{where}: {spec.key} must be a finite number, got {value!r}")
    choices = spec.choices or (spec.choices_from() if spec.choices_from else ())
    if choices and value not in choices:
        raise ConfigError(
            f"{where}: {spec.key} must be one of {', '.join(choices)}, got {value!r}"
        )
    if (
        spec.minimum is not None
        and spec.maximum is not None
        and not spec.minimum <= value <= spec.maximum
    ):
        raise ConfigError(
            f"{where}: {spec.key} must be between {spec.minimum:g} and "
            f"{spec.maximum:g}, got {value!r}"
        )
    if spec.minimum is not None and value < spec.minimum:
        raise ConfigError(
            f"{where}: {spec.key} must be at least {spec.minimum:g}, got {value!r}"
        )
    if spec.maximum is not None and value > spec.maximum:
        raise ConfigError(
            f"{where}: {spec.key} must be at most {spec.maximum:g}, got {value!r}"
        )
    if kind == "float":
        return float(value)
    if kind == "path":
        if not str(value):
            raise ConfigError(f"{where}: {spec.key} must not be empty")
        return Path(value).expanduser()
    if kind == "optional_path":
        return Path(value).expanduser() if str(value) else None
    if kind == "str_list":
        if spec.ip_addresses:
            return tuple(_ip_address(spec, item, where) for item in value)
        return tuple(value)
    return value


def _ip_address(spec: KeySpec, text: str, where: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise ConfigError(
            f"{where}: {spec.key} must hold IP addresses, got {text!r}"
        ) from None


def _describe_value(raw: Any) -> str:
    type_name = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "table",
    }.get(type(raw), type(raw).__name__)
    shown = repr(raw)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{type_name} {shown}"


def _readable_by_others(path: Path) -> bool:
    if os.name == "nt":  # POSIX permission bits mean nothing there
        return False
    mode = path.stat().st_mode
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def _get_attribute(obj: Any, attribute_path: tuple[str, ...]) -> Any:
    for name in attribute_path:
        obj = getattr(obj, name)
    return obj


def _replace_attribute(obj: Any, attribute_path: tuple[str, ...], value: Any) -> Any:
    head, *rest = attribute_path
    if rest:
        value = _replace_attribute(getattr(obj, head), tuple(rest), value)
    return dataclasses.replace(obj, **{head: value})
