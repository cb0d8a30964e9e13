"""Configuration: precedence per key, strict validation, the password's handling."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from f1dash_tui.config import (
    KEYS,
    KEYS_BY_NAME,
    REDACTED,
    default_value,
    effective_values,
    load_config,
)
from f1dash_tui.errors import ConfigError
from f1dash_tui.logging_setup import configure_logging

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def toml_for(key: str, literal: str) -> str:
    section, _, name = key.rpartition(".")
    return f"[{section}]\n{name} = {literal}\n"


def effective(settings: Any, key: str) -> Any:
    value = settings
    for name in KEYS_BY_NAME[key].attribute_path:
        value = getattr(value, name)
    return value


# key: (TOML literal in the file, environment text, option value,
#       expected from file, expected from env, expected from option)
# Every value differs from the default and from the other layers, so a layer that
# is ignored or applied in the wrong order shows as a wrong value.
PRECEDENCE_CASES: dict[str, tuple[str, str, Any, Any, Any, Any]] = {
    "store.kind": ('"heavydb"', "sqlite", "heavydb", "heavydb", "sqlite", "heavydb"),
    "store.sqlite_path": (
        '"/from/file.sqlite3"',
        "/from/env.sqlite3",
        Path("/from/option.sqlite3"),
        Path("/from/file.sqlite3"),
        Path("/from/env.sqlite3"),
        Path("/from/option.sqlite3"),
    ),
    "store.heavydb.host": (
        '"file-host"',
        "env-host",
        "opt-host",
        "file-host",
        "env-host",
        "opt-host",
    ),
    "store.heavydb.port": ("6001", "6002", 6003, 6001, 6002, 6003),
    "store.heavydb.user": (
        '"file-user"',
        "env-user",
        "opt-user",
        "file-user",
        "env-user",
        "opt-user",
    ),
    "store.heavydb.database": (
        '"file_db"',
        "env_db",
        "opt_db",
        "file_db",
        "env_db",
        "opt_db",
    ),
    "store.heavydb.protocol": ('"http"', "https", "http", "http", "https", "http"),
    "ingest.listen_host": (
        '"10.1.1.1"',
        "10.2.2.2",
        "10.3.3.3",
        "10.1.1.1",
        "10.2.2.2",
        "10.3.3.3",
    ),
    "ingest.listen_port": ("20001", "20002", 20003, 20001, 20002, 20003),
    "ingest.allowed_senders": (
        '["10.0.0.1"]',
        "10.0.0.2, 10.0.0.3",
        ("10.0.0.4",),
        ("10.0.0.1",),
        ("10.0.0.2", "10.0.0.3"),
        ("10.0.0.4",),
    ),
    "ui.live_poll_interval_s": ("1.5", "2.5", 3.5, 1.5, 2.5, 3.5),
    "ui.theme": ('"nord"', "gruvbox", "dracula", "nord", "gruvbox", "dracula"),
    "log.file": (
        '"/from/file.log"',
        "/from/env.log",
        Path("/from/option.log"),
        Path("/from/file.log"),
        Path("/from/env.log"),
        Path("/from/option.log"),
    ),
    "log.level": ('"DEBUG"', "WARNING", "ERROR", "DEBUG", "WARNING", "ERROR"),
}

# Keys without a command-line option: file < environment only.
FILE_ENV_CASES: dict[str, tuple[str, str, Any, Any]] = {
    "store.heavydb.password": (
        '"file-secret"',
        "env-secret",
        "file-secret",
        "env-secret",
    ),
    "store.heavydb.tls_verify": ("false", "yes", False, True),
    "store.heavydb.tls_ca_file": (
        '"/file/ca.pem"',
        "/env/ca.pem",
        "/file/ca.pem",
        "/env/ca.pem",
    ),
    "store.heavydb.connect_timeout_s": ("2", "3.25", 2.0, 3.25),
    "ingest.batch_max_s": ("0.25", "0.05", 0.25, 0.05),
    "ingest.batch_max_rows": ("1000", "2000", 1000, 2000),
    "ingest.queue_max_datagrams": ("100", "200", 100, 200),
    "ingest.spool_dir": (
        '"/file/spool"',
        "/env/spool",
        Path("/file/spool"),
        Path("/env/spool"),
    ),
    "ui.slow_poll_interval_s": ("7", "9.5", 7.0, 9.5),
    "ui.units": ('"imperial"', "metric", "imperial", "metric"),
}


def test_every_key_has_a_precedence_case() -> None:
    assert set(PRECEDENCE_CASES) | set(FILE_ENV_CASES) == set(KEYS_BY_NAME)


@pytest.mark.parametrize("key", sorted(PRECEDENCE_CASES))
def test_precedence_option_over_env_over_file_over_default(
    tmp_path: Path, key: str
) -> None:
    file_literal, env_text, option_value, from_file, from_env, from_option = (
        PRECEDENCE_CASES[key]
    )
    spec = KEYS_BY_NAME[key]
    path = write_config(tmp_path, toml_for(key, file_literal))
    env = {spec.env_var: env_text}
    no_file = tmp_path / "absent.toml"

    # Default: no file, no env, no option.
    loaded = load_config(config_path=None, environ={}, options={})
    assert effective(loaded.settings, key) == default_value(key)
    assert loaded.sources[key].kind == "default"
    assert not no_file.exists()

    loaded = load_config(config_path=path, environ={})
    assert effective(loaded.settings, key) == from_file
    assert loaded.sources[key].kind == "file"
    assert from_file != default_value(key)

    loaded = load_config(config_path=path, environ=env)
    assert effective(loaded.settings, key) == from_env
    assert loaded.sources[key].kind == "env"
    assert loaded.sources[key].detail == spec.env_var

    loaded = load_config(config_path=path, environ=env, options={key: option_value})
    assert effective(loaded.settings, key) == from_option
    assert loaded.sources[key].kind == "option"

    # Other keys are untouched by this key's layers.
    other = "ui.units" if key != "ui.units" else "store.kind"
    assert effective(loaded.settings, other) == default_value(other)


@pytest.mark.parametrize("key", sorted(FILE_ENV_CASES))
def test_env_over_file_for_keys_without_option(tmp_path: Path, key: str) -> None:
    file_literal, env_text, from_file, from_env = FILE_ENV_CASES[key]
    spec = KEYS_BY_NAME[key]
    path = write_config(tmp_path, toml_for(key, file_literal))
    assert from_file != default_value(key)
    loaded = load_config(config_path=path, environ={})
    assert effective(loaded.settings, key) == from_file
    loaded = load_config(config_path=path, environ={spec.env_var: env_text})
    assert effective(loaded.settings, key) == from_env
    assert loaded.sources[key].describe() == f"env ({spec.env_var})"


def test_env_var_names_follow_the_documented_rule() -> None:
    names = {spec.key: spec.env_var for spec in KEYS}
    assert names["store.heavydb.password"] == "F1DASH_HEAVYDB_PASSWORD"
    assert names["store.kind"] == "F1DASH_STORE_KIND"
    assert names["log.file"] == "F1DASH_LOG_FILE"
    assert names["ui.live_poll_interval_s"] == "F1DASH_UI_LIVE_POLL_INTERVAL_S"
    assert len(set(names.values())) == len(names)


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[ui]\ntheme = "nord"\n')
    loaded = load_config(environ={"F1DASH_CONFIG": str(path)})
    assert loaded.config_path == path
    assert loaded.settings.ui.theme == "nord"
    # --config wins over F1DASH_CONFIG.
    other = tmp_path / "other.toml"
    other.write_text('[ui]\ntheme = "dracula"\n')
    loaded = load_config(config_path=other, environ={"F1DASH_CONFIG": str(path)})
    assert loaded.settings.ui.theme == "dracula"


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=re.escape(f"config file {missing} does not")):
        load_config(config_path=missing, environ={})


@pytest.mark.parametrize(
    ("text", "unknown", "nearest"),
    [
        ('[store]\nsqlite_pth = "x"\n', "store.sqlite_pth", "'store.sqlite_path'"),
        (
            "[ui]\nlive_poll_interval = 1.0\n",
            "ui.live_poll_interval",
            "'ui.live_poll_interval_s'",
        ),
        ('[heavydb]\nhost = "h"\n', "heavydb.host", "'store.heavydb.host'"),
        (
            '[store.heavydb]\npasword = "x"\n',
            "store.heavydb.pasword",
            "'store.heavydb.password'",
        ),
        ("[ingest]\nlisten_prot = 1\n", "ingest.listen_prot", "'ingest.listen_port'"),
        ('[user_interface]\ntheme = "nord"\n', "user_interface.theme", "'ui.theme'"),
    ],
)
def test_unknown_key_names_the_nearest_valid_key(
    tmp_path: Path, text: str, unknown: str, nearest: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    message = str(caught.value)
    assert f"unknown key '{unknown}'" in message
    assert f"did you mean {nearest}" in message
    assert str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "key", "expected", "got"),
    [
        (
            '[store.heavydb]\nport = "6274"\n',
            "store.heavydb.port",
            "an integer",
            "string '6274'",
        ),
        (
            "[store.heavydb]\nport = true\n",
            "store.heavydb.port",
            "an integer",
            "boolean True",
        ),
        (
            '[ui]\nlive_poll_interval_s = "fast"\n',
            "ui.live_poll_interval_s",
            "a number",
            "string",
        ),
        (
            '[store.heavydb]\ntls_verify = "yes"\n',
            "store.heavydb.tls_verify",
            "true or false",
            "string",
        ),
        (
            '[ingest]\nallowed_senders = "10.0.0.1"\n',
            "ingest.allowed_senders",
            "a list of strings",
            "string",
        ),
        (
            "[store]\nsqlite_path = 3\n",
            "store.sqlite_path",
            "a path string",
            "integer 3",
        ),
        ("[store.kind]\nx = 1\n", "store.kind", "a string", "table"),
    ],
)
def test_wrong_type_is_one_line_naming_key_type_and_file(
    tmp_path: Path, text: str, key: str, expected: str, got: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: {key} must be {expected}, got {got}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        (
            {"F1DASH_HEAVYDB_PORT": "abc"},
            "F1DASH_HEAVYDB_PORT must be an integer, got 'abc'",
        ),
        (
            {"F1DASH_HEAVYDB_TLS_VERIFY": "maybe"},
            "F1DASH_HEAVYDB_TLS_VERIFY must be true or false",
        ),
        (
            {"F1DASH_STORE_KIND": "postgres"},
            "store.kind must be one of sqlite, heavydb, got 'postgres'",
        ),
        (
            {"F1DASH_INGEST_LISTEN_PORT": "70000"},
            "ingest.listen_port must be between 1 and 65535, got 70000",
        ),
        (
            {"F1DASH_UI_LIVE_POLL_INTERVAL_S": "0"},
            "ui.live_poll_interval_s must be between 0.05 and 60, got 0.0",
        ),
    ],
)
def test_bad_environment_values_are_errors(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_config(environ=env)


def test_value_out_of_choices_in_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[store.heavydb]\nprotocol = "grpc"\n')
    with pytest.raises(
        ConfigError, match="must be one of binary, http, https, got 'grpc'"
    ):
        load_config(config_path=path, environ={})


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[store\nkind = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    assert str(caught.value).startswith(f"{path} is not valid TOML")
    assert "\n" not in str(caught.value)


def test_password_cannot_come_from_an_option() -> None:
    with pytest.raises(ConfigError, match="cannot be set on the command line"):
        load_config(environ={}, options={"store.heavydb.password": "x"})


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_password_in_a_file_others_can_read_draws_a_warning(tmp_path: Path) -> None:
    text = '[store.heavydb]\npassword = "hunter2"\n'
    path = write_config(tmp_path, text, mode=0o644)
    loaded = load_config(config_path=path, environ={})
    assert len(loaded.warnings) == 1
    warning = loaded.warnings[0]
    assert str(path) in warning
    assert f"chmod 600 {path}" in warning
    assert "hunter2" not in warning
    assert "\n" not in warning

    path.chmod(0o600)
    assert load_config(config_path=path, environ={}).warnings == ()

    path.chmod(0o640)  # group-readable counts too
    assert len(load_config(config_path=path, environ={}).warnings) == 1

    # No password in the file: its permissions are the user's business.
    path.write_text('[ui]\ntheme = "nord"\n')
    path.chmod(0o644)
    assert load_config(config_path=path, environ={}).warnings == ()


def test_effective_values_redact_the_password(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[store.heavydb]\npassword = "s3cret-file"\n')
    rows = effective_values(load_config(config_path=path, environ={}))
    shown = dict((key, value) for key, value, _ in rows)
    assert shown["store.heavydb.password"] == f"{REDACTED}"
    assert all("s3cret-file" not in value for _, value, _ in rows)
    # An unset password shows as empty, so the user can tell it is missing.
    rows = effective_values(load_config(environ={}))
    assert dict((k, v) for k, v, _ in rows)["store.heavydb.password"] == '""'


def test_prompted_password_is_recorded_as_such() -> None:
    loaded = load_config(environ={}).with_password("typed")
    assert loaded.settings.store.heavydb.password == "typed"
    assert loaded.sources["store.heavydb.password"].kind == "prompt"
    assert "typed" not in repr(loaded.settings)


ENABLE_LINE = re.compile(r"^#\s?(\[[\w.]+\]|[a-z_]+ = .*)$")


def _enabled_example_text() -> str:
    """config.toml.example with its commented-out ``# key = value`` lines enabled."""
    text = (REPO_ROOT / "config.toml.example").read_text(encoding="utf-8")
    enabled = []
    for line in text.splitlines():
        match = ENABLE_LINE.match(line)
        enabled.append(match.group(1) if match else line)
    return "\n".join(enabled) + "\n"


def test_example_documents_every_key_with_its_default(tmp_path: Path) -> None:
    document = tomllib.loads(_enabled_example_text())
    flat: dict[str, Any] = {}

    def walk(table: dict[str, Any], prefix: str) -> None:
        for name, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{name}.")
            else:
                flat[f"{prefix}{name}"] = value

    walk(document, "")
    assert set(flat) == set(KEYS_BY_NAME)
    # Platform-dependent defaults are shown as a placeholder path; the rest must match.
    platform_dependent = {"store.sqlite_path", "ingest.spool_dir", "log.file"}
    for key, value in flat.items():
        if key in platform_dependent:
            continue
        default = default_value(key)
        if isinstance(default, tuple):
            default = list(default)
        assert value == default, key
    # And the example, enabled, is itself a valid configuration.
    enabled = tmp_path / "enabled.toml"
    enabled.write_text(_enabled_example_text(), encoding="utf-8")
    enabled.chmod(0o600)
    assert (
        load_config(config_path=enabled, environ={}).settings.ui.theme == "textual-dark"
    )


def test_logs_mask_the_password_and_never_reach_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "logs" / "f1dash.log"
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_last_resort = logging.lastResort
    try:
        configure_logging(log_file, "INFO", secrets=("pa55word",))
        logger = logging.getLogger("f1dash_tui.test")
        logger.info("connecting with %s", "pa55word")
        try:
            raise RuntimeError("login failed for pa55word")
        except RuntimeError:
            logger.exception("connect failed")
        configure_logging(None, "INFO")
        logger.warning("no log file: this goes nowhere")
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved_level)
        logging.lastResort = saved_last_resort
    text = log_file.read_text(encoding="utf-8")
    assert "connecting with ***" in text
    assert "login failed for ***" in text
    assert "pa55word" not in text
    assert "goes nowhere" not in text
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_readme_lists_every_key_and_its_environment_variable() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for spec in KEYS:
        assert f"| `{spec.key}` |" in readme, spec.key
        assert f"`{spec.env_var}`" in readme, spec.env_var
    assert "default < config file < `F1DASH_*` environment variable < command-line" in (
        " ".join(readme.split())
    )


def test_misspelt_environment_variable_draws_a_warning() -> None:
    loaded = load_config(
        environ={
            "F1DASH_HEAVYDB_PASWORD": "x",
            "F1DASH_TEST_DATA": "/data",
            "F1DASH_BENCH_MINUTES": "5",
            "F1DASH_CONFIG_DIR_UNUSED_ZZZZZZZZZZZZ": "1",
        }
    )
    assert loaded.warnings == (
        "warning: environment variable F1DASH_CONFIG_DIR_UNUSED_ZZZZZZZZZZZZ sets "
        "nothing",
        "warning: environment variable F1DASH_HEAVYDB_PASWORD sets nothing; did you "
        "mean F1DASH_HEAVYDB_PASSWORD?",
    )
    assert loaded.settings.store.heavydb.password == ""


def test_allowed_senders_must_be_ip_addresses(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, '[ingest]\nallowed_senders = ["10.0.0.1", "pit-wall"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    assert str(caught.value) == (
        f"{path}: ingest.allowed_senders must hold IP addresses, got 'pit-wall'"
    )
    loaded = load_config(environ={"F1DASH_INGEST_ALLOWED_SENDERS": "::1, 192.168.1.20"})
    assert loaded.settings.ingest.allowed_senders == ("::1", "192.168.1.20")


FLOAT_KEYS = [spec.key for spec in KEYS if spec.value_type == "float"]


@pytest.mark.parametrize("key", FLOAT_KEYS)
@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_rejected_from_env(key: str, text: str) -> None:
    spec = KEYS_BY_NAME[key]
    with pytest.raises(ConfigError) as caught:
        load_config(environ={spec.env_var: text})
    assert str(caught.value) == (
        f"environment variable {spec.env_var}: {key} must be a finite number, "
        f"got {float(text)!r}"
    )


@pytest.mark.parametrize("key", FLOAT_KEYS)
def test_non_finite_numbers_are_rejected_from_file_and_options(
    tmp_path: Path, key: str
) -> None:
    section, _, name = key.rpartition(".")
    path = write_config(tmp_path, f"[{section}]\n{name} = inf\n")
    with pytest.raises(ConfigError, match=re.escape(f"{key} must be a finite number")):
        load_config(config_path=path, environ={})
    with pytest.raises(ConfigError, match=re.escape(f"{key} must be a finite number")):
        load_config(environ={}, options={key: float("nan")})


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[ui]\nunits = "imperial"\n'.encode("utf-16"))  # BOM ff fe
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    assert str(caught.value).startswith(f"{path} is not UTF-8 text: ")
    assert "\n" not in str(caught.value)


def test_a_utf8_config_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'[ui]\nunits = "imperial"\n')
    loaded = load_config(config_path=path, environ={})
    assert loaded.settings.ui.units == "imperial"


def test_an_unknown_theme_is_an_error_listing_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, options={"ui.theme": "nosuchtheme"})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("option --theme: ui.theme must be one of ")
    assert message.endswith(", got 'nosuchtheme'")
    # Themes that ship with Textual (its docs list them).
    for name in ("textual-dark", "nord", "gruvbox", "dracula", "tokyo-night"):
        assert name in message
    path = write_config(tmp_path, '[ui]\ntheme = "nord"\n')
    assert load_config(config_path=path, environ={}).settings.ui.theme == "nord"


def test_a_fragment_of_a_variable_name_suggests_the_names_holding_it() -> None:
    loaded = load_config(environ={"F1DASH_UI_POLL": "1"})
    assert loaded.warnings == (
        "warning: environment variable F1DASH_UI_POLL sets nothing; did you mean "
        "F1DASH_UI_LIVE_POLL_INTERVAL_S or F1DASH_UI_SLOW_POLL_INTERVAL_S?",
    )


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("live_poll_interval_s", "1e308", "between 0.05 and 60, got 1e+308"),
        ("live_poll_interval_s", "61", "between 0.05 and 60, got 61"),
        ("slow_poll_interval_s", "1e308", "between 0.05 and 600, got 1e+308"),
    ],
)
def test_a_poll_interval_too_long_to_ever_poll_is_refused(
    tmp_path: Path, key: str, value: str, allowed: str
) -> None:
    """1e308 was taken: the header showed "polling 1e+308s" and nothing updated."""
    path = write_config(tmp_path, f"[ui]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config_path=path, environ={})
    assert str(caught.value) == f"{path}: ui.{key} must be {allowed}"
