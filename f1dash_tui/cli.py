"""The ``f1dash-tui`` command line (click).

Every subcommand imports the part it drives (ingest, simulator, store, dashboard)
inside its function, so ``--help`` stays fast and a missing part is one clear line.
Errors a user can cause print one line on stderr and exit non-zero; ``--debug`` adds
the traceback. Logs go only to the file the user chose.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
import math
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from click.core import ParameterSource

from f1dash_tui import __version__
from f1dash_tui.config import (
    LoadedConfig,
    default_value,
    effective_values,
    load_config,
)
from f1dash_tui.errors import F1DashError, StoreError
from f1dash_tui.settings import (
    MAX_LIVE_POLL_INTERVAL_S,
    MIN_POLL_INTERVAL_S,
    Settings,
)

logger = logging.getLogger(__name__)

PROG_NAME = "f1dash-tui"
GAME_DEFAULT_PORT = 20777

PRECEDENCE_EPILOG = """\b
Configuration precedence (lowest to highest):
  default < config file < F1DASH_* environment < command-line option
An option counts only when typed. Config file: --config PATH, else
$F1DASH_CONFIG, else config.toml in the user config directory.
'f1dash-tui config show' prints every value and where it came from.
"""

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True}


class CliError(F1DashError):
    """A command-line problem found after parsing (a part missing, say)."""


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class F1DashGroup(click.Group):
    """A click group printing user errors as one line on stderr (--debug: traceback)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arg_list = _debug_first(list(sys.argv[1:] if args is None else args))
        debug = "--debug" in arg_list
        from f1dash_tui.logging_setup import configure_logging, logging_configured

        if not logging_configured():
            # Until the configuration names a log file, records go nowhere (Python's
            # fallback handler would otherwise print warnings on the terminal).
            configure_logging(None, "WARNING")
        try:
            result = super().main(
                arg_list,
                prog_name=prog_name or PROG_NAME,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except click.exceptions.Abort:
            _fail("aborted", 1, debug)
        except click.exceptions.NoArgsIsHelpError as error:
            # A group run without its subcommand (`f1dash-tui config`): its help.
            click.echo(error.ctx.get_help())
            sys.exit(error.exit_code)
        except click.ClickException as error:
            message = error.format_message()
            if isinstance(error, click.NoSuchOption) and error.ctx is not None:
                message += _global_option_hint(error.option_name, error.ctx)
            if isinstance(error, click.UsageError):
                command = error.ctx.command_path if error.ctx else PROG_NAME
                message += f" (see '{command} --help')"
            _fail(message, error.exit_code, debug)
        except F1DashError as error:
            _fail(str(error), error.exit_code, debug)
        except OSError as error:
            target = f"{error.filename}: " if error.filename else ""
            _fail(f"{target}{error.strerror or error}", 1, debug)
        except KeyboardInterrupt:
            _fail("interrupted", 130, debug)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _global_option_hint(option_name: str, ctx: click.Context) -> str:
    """When an option of ``f1dash-tui`` itself was typed after a subcommand: where it
    goes instead."""
    root = ctx.find_root().command
    is_global = any(
        option_name in parameter.opts or option_name in parameter.secondary_opts
        for parameter in root.params
    )
    if not is_global or ctx.parent is None:
        return ""
    return (
        f" It is an option of {PROG_NAME} itself: put it before the subcommand "
        f"({PROG_NAME} {option_name} ... {ctx.info_name} ...)"
    )


def _debug_first(arg_list: list[str]) -> list[str]:
    """``--debug`` is a group option, but users type it after the subcommand too
    (``replay rec.pcap --debug``): move it to the front, up to a ``--``."""
    end = arg_list.index("--") if "--" in arg_list else len(arg_list)
    if "--debug" not in arg_list[:end]:
        return arg_list
    rest = [arg for arg in arg_list[:end] if arg != "--debug"]
    return ["--debug", *rest, *arg_list[end:]]


def _fail(message: str, exit_code: int, debug: bool) -> None:
    # Into the log file too (when one is configured), with the traceback kept there.
    logger.error("exit %d: %s", exit_code, message, exc_info=True)
    if debug:
        traceback.print_exc(file=sys.stderr)
    click.echo(f"{PROG_NAME}: error: {_one_line(message)}", err=True)
    sys.exit(exit_code)


@dataclass
class CliState:
    """What the group's options decided, handed to each subcommand."""

    config_path: Path | None
    debug: bool
    options: dict[str, Any] = field(default_factory=dict)
    option_flags: dict[str, str] = field(default_factory=dict)

    def load(
        self,
        extra_options: Mapping[str, Any] | None = None,
        extra_flags: Mapping[str, str] | None = None,
    ) -> LoadedConfig:
        """The effective configuration; prints its warnings on stderr."""
        options = {**self.options, **(extra_options or {})}
        flags = {**self.option_flags, **(extra_flags or {})}
        loaded = load_config(
            config_path=self.config_path, options=options, option_flags=flags
        )
        for warning in loaded.warnings:
            # Prefixed like every other line the CLI prints on stderr.
            click.echo(f"{PROG_NAME}: {_one_line(warning)}", err=True)
        return loaded


def _start_logging(settings: Settings) -> None:
    from f1dash_tui.logging_setup import configure_logging

    configure_logging(
        settings.log_file,
        settings.log_level,
        secrets=(settings.store.heavydb.password,),
    )


def _with_heavydb_password(loaded: LoadedConfig) -> LoadedConfig:
    """Prompt for the HeavyDB password when none is set and stdin is a terminal."""
    heavydb = loaded.settings.store.heavydb
    if loaded.settings.store.kind != "heavydb" or heavydb.password:
        return loaded
    if not sys.stdin.isatty():
        return loaded
    password = click.prompt(
        f"HeavyDB password for {heavydb.user}@{heavydb.host}:{heavydb.port}",
        hide_input=True,
        default="",
        show_default=False,
        err=True,
    )
    return loaded.with_password(password)


def _prepare(
    ctx: click.Context,
    *,
    connects_to_store: bool,
    extra_options: Mapping[str, Any] | None = None,
    extra_flags: Mapping[str, str] | None = None,
) -> Settings:
    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load(extra_options, extra_flags)
    if connects_to_store:
        loaded = _with_heavydb_password(loaded)
    _start_logging(loaded.settings)
    return loaded.settings


def _import_part(module_name: str, what: str) -> ModuleType:
    """Import a part of f1dash-tui lazily; a missing one is a one-line error."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise CliError(f"{what} is not available in this build ({error})") from error


def _part_function(module_name: str, name: str, what: str) -> Any:
    module = _import_part(module_name, what)
    function = getattr(module, name, None)
    if function is None:
        raise CliError(f"{what} is not available in this build ({module_name}.{name})")
    return function


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C, SIGTERM or SIGHUP (the terminal went away), so
    long-running work flushes what it holds and ends cleanly."""
    stop_event = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_event.set()

    previous = {
        signum: signal.signal(signum, request_stop)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield stop_event
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Option(click.Option):
    """A click option whose described default (``show_default="until Ctrl-C"``)
    reads ``[default: until Ctrl-C]``: click wraps such text in parentheses, which
    nested inside a description that has its own."""

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        default = extra.get("default")
        if isinstance(self.show_default, str) and default == f"({self.show_default})":
            extra["default"] = self.show_default
        return extra


def option(*param_decls: str, **attrs: Any) -> Any:
    """``click.option`` with ``Option``: every option of this CLI."""
    return click.option(*param_decls, cls=Option, **attrs)


class FiniteFloatRange(click.FloatRange):
    """A float in a range that is also a number: click's FloatRange lets NaN
    through (every comparison with it is false), and inf overflows timers."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class Duration(FiniteFloatRange):
    """Seconds, more than 0 and at most a year: longer is a mistake, and past
    what the platform's timers take (1e300 raised OverflowError in a thread)."""

    LONGEST_S = 366 * 24 * 3600.0

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        seconds = super().convert(value, param, ctx)
        if seconds > self.LONGEST_S:
            self.fail(
                f"{value} s is more than a year ({self.LONGEST_S:,.0f} s).", param, ctx
            )
        return seconds


class HostPort(click.ParamType):
    """``HOST:PORT`` (``[v6addr]:PORT`` for IPv6)."""

    name = "HOST:PORT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        host, separator, port_text = text.rpartition(":")
        host = host.strip("[]")
        if not separator or not host or not port_text.isdigit():
            self.fail(f"expected HOST:PORT such as 0.0.0.0:20777, got {text!r}")
        port = int(port_text)
        if not 1 <= port <= 65535:
            self.fail(f"port must be 1-65535, got {port}")
        return host, port


class IPAddress(click.ParamType):
    """One IPv4 or IPv6 address."""

    name = "IP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            self.fail(f"not an IP address: {value!r}")


def _typed(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def _shown_default(key: str) -> str:
    value = default_value(key)
    return "none" if value is None else str(value)


# (click parameter name, config key) for the group's options that map one-to-one.
GLOBAL_OPTION_KEYS = {
    "store": "store.kind",
    "sqlite_path": "store.sqlite_path",
    "heavydb_host": "store.heavydb.host",
    "heavydb_port": "store.heavydb.port",
    "heavydb_user": "store.heavydb.user",
    "heavydb_database": "store.heavydb.database",
    "heavydb_protocol": "store.heavydb.protocol",
    "log_file": "log.file",
    "log_level": "log.level",
    "theme": "ui.theme",
    "poll_interval": "ui.live_poll_interval_s",
}


@click.group(
    PROG_NAME,
    cls=F1DashGroup,
    invoke_without_command=True,
    context_settings=CONTEXT_SETTINGS,
    epilog=PRECEDENCE_EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name=PROG_NAME)
@option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="$F1DASH_CONFIG or <user config dir>/config.toml",
    help="Configuration file (TOML).",
)
@option(
    "--store",
    type=click.Choice(["sqlite", "heavydb"]),
    default=None,
    show_default=_shown_default("store.kind"),
    help="Which store to read and write.",
)
@option(
    "--sqlite-path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default=_shown_default("store.sqlite_path"),
    help="The SQLite store file.",
)
@option(
    "--heavydb-host",
    default=None,
    show_default=_shown_default("store.heavydb.host"),
    help="HeavyDB host. The password comes from the config file, "
    "F1DASH_HEAVYDB_PASSWORD or a prompt, never a flag.",
)
@option(
    "--heavydb-port",
    type=click.IntRange(1, 65535),
    default=None,
    show_default=_shown_default("store.heavydb.port"),
    help="HeavyDB port.",
)
@option(
    "--heavydb-user",
    default=None,
    show_default=_shown_default("store.heavydb.user"),
    help="HeavyDB user.",
)
@option(
    "--heavydb-database",
    default=None,
    show_default=_shown_default("store.heavydb.database"),
    help="HeavyDB database.",
)
@option(
    "--heavydb-protocol",
    type=click.Choice(["binary", "http", "https"]),
    default=None,
    show_default=_shown_default("store.heavydb.protocol"),
    help="HeavyDB wire protocol.",
)
@option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="no log",
    help="Write logs to this file (never to the terminal).",
)
@option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    default=None,
    show_default=_shown_default("log.level"),
    help="Log level.",
)
@option(
    "--theme",
    default=None,
    show_default=_shown_default("ui.theme"),
    help="Dashboard theme (a Textual theme name).",
)
@option(
    "--poll-interval",
    type=FiniteFloatRange(min=MIN_POLL_INTERVAL_S, max=MAX_LIVE_POLL_INTERVAL_S),
    default=None,
    show_default=_shown_default("ui.live_poll_interval_s"),
    help="Seconds between polls of the live panels.",
)
@option(
    "--debug",
    is_flag=True,
    default=False,
    help="Show tracebacks for errors.",
)
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, debug: bool, **values: Any
) -> None:
    """Live F1 game telemetry in the terminal, stored in SQLite or HeavyDB.

    Without a subcommand, opens the dashboard on the configured store.
    """
    options = {
        GLOBAL_OPTION_KEYS[name]: value
        for name, value in values.items()
        if _typed(ctx, name)
    }
    ctx.obj = CliState(config_path=config_path, debug=debug, options=options)
    if ctx.invoked_subcommand is None:
        _need_terminal("the dashboard")
        settings = _prepare(ctx, connects_to_store=True)
        create_app = _part_function("f1dash_tui.ui.app", "create_app", "the dashboard")
        app = create_app(settings, store=None, source_label=_store_label(settings))
        app.run()


def _need_terminal(what: str) -> None:
    """CliError unless stdout is a terminal: a full-screen app piped into a file or
    another program would write escape codes there and wait for keys forever."""
    if not sys.stdout.isatty():
        raise CliError(
            f"{what} needs a terminal, and stdout is not one (it is piped or "
            "redirected); run it in a terminal, or use `ingest`, `replay` or "
            "`doctor` in scripts"
        )


def _store_label(settings: Settings) -> str:
    store = settings.store
    if store.kind == "heavydb":
        heavydb = store.heavydb
        return f"HeavyDB {heavydb.host}:{heavydb.port}/{heavydb.database}"
    return f"SQLite {store.sqlite_path}"


@cli.command(context_settings=CONTEXT_SETTINGS)
@option(
    "--loop",
    is_flag=True,
    help="When the capture ends, replay it again as a new session.",
)
@option(
    "--simulate",
    is_flag=True,
    help="Run a synthetic race instead of the bundled real capture.",
)
@option(
    "--speed",
    type=FiniteFloatRange(min=0.01),
    default=1.0,
    help="Replay speed: 1 is the recorded pace, 2 twice as fast.",
)
@click.pass_context
def demo(ctx: click.Context, loop: bool, simulate: bool, speed: float) -> None:
    """Dashboard on a throwaway store fed by the bundled real capture.

    The capture (Melbourne 2026, 22 cars) is replayed at its recorded pace into a
    temporary SQLite store; quitting deletes it. Nothing is written elsewhere.
    """
    _need_terminal("the demo")
    settings = _prepare(ctx, connects_to_store=False)
    from f1dash_tui.demo import run_demo

    run_demo(settings, loop=loop, simulate=simulate, speed=speed)


@cli.command(context_settings=CONTEXT_SETTINGS)
@option(
    "--listen",
    type=HostPort(),
    default=None,
    show_default=f"0.0.0.0:{GAME_DEFAULT_PORT} (ingest.listen_host/listen_port)",
    help="UDP address to receive the game's telemetry on.",
)
@option(
    "--allow-sender",
    "allowed_senders",
    type=IPAddress(),
    multiple=True,
    show_default="every sender",
    help="Accept datagrams only from this IP (repeatable).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    listen: tuple[str, int] | None,
    allowed_senders: tuple[str, ...],
) -> None:
    """Receive the game's UDP telemetry and write it to the store.

    Run one ingest per pit-wall machine; any number of dashboards can read the store.
    """
    options, flags = _listen_options(listen)
    if allowed_senders:
        options["ingest.allowed_senders"] = allowed_senders
        flags["ingest.allowed_senders"] = "--allow-sender"
    settings = _prepare(
        ctx, connects_to_store=True, extra_options=options, extra_flags=flags
    )
    run_listener = _part_function(
        "f1dash_tui.ingest.service", "run_listener", "UDP ingest"
    )
    # The status line is redrawn in place on a terminal; a log file or a service
    # manager gets the first and the last line only.
    status_stream = sys.stderr if sys.stderr.isatty() else None

    def say_listening() -> None:
        click.echo(
            f"listening on UDP {_listen_label(settings)}, writing to "
            f"{_store_label(settings)}; Ctrl-C stops",
            err=True,
        )

    def say_store_change(error: str) -> None:
        # On a terminal, clear the status line the message replaces; the next
        # redraw puts it back underneath.
        start = "\r\x1b[K" if status_stream is not None else ""
        if error:
            text = (
                f"{PROG_NAME}: warning: store down, spooling received data until it "
                f"is back: {error}"
            )
        else:
            text = f"{PROG_NAME}: store is back; writing again"
        click.echo(start + text, err=True)

    with _stop_on_signals() as stop_event:
        stats = run_listener(
            settings,
            status_stream=status_stream,
            stop_event=stop_event,
            on_listening=say_listening,
            on_store_change=say_store_change,
        )
    if status_stream is None and stats is not None:
        click.echo(f"ingest stopped: {_stats_line(stats)}", err=True)


def _listen_label(settings: Settings) -> str:
    host = settings.ingest.listen_host
    shown_host = f"[{host}]" if ":" in host else host
    return f"{shown_host}:{settings.ingest.listen_port}"


def _listen_options(
    listen: tuple[str, int] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    if listen is None:
        return {}, {}
    host, port = listen
    options: dict[str, Any] = {
        "ingest.listen_host": host,
        "ingest.listen_port": port,
    }
    return options, dict.fromkeys(options, "--listen")


FORCE_OPTION = click.option(
    "--force", is_flag=True, help="Overwrite FILE.pcap if it exists."
)


def _check_new_file(pcap_file: Path, force: bool) -> None:
    """Refuse to overwrite a capture (a recording cannot be made again) unless told."""
    if pcap_file.is_dir():
        raise CliError(f"{pcap_file} is a folder, not a file")
    if pcap_file.exists() and not force:
        raise CliError(
            f"{pcap_file} exists; give another file name, or --force to overwrite it"
        )


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("pcap_file", metavar="FILE.pcap", type=click.Path(path_type=Path))
@option(
    "--listen",
    type=HostPort(),
    default=None,
    show_default=f"0.0.0.0:{GAME_DEFAULT_PORT} (ingest.listen_host/listen_port)",
    help="UDP address to receive the game's telemetry on.",
)
@option(
    "--duration",
    type=Duration(),
    default=None,
    show_default="until Ctrl-C",
    help="Stop after this many seconds.",
)
@FORCE_OPTION
@click.pass_context
def record(
    ctx: click.Context,
    pcap_file: Path,
    listen: tuple[str, int] | None,
    duration: float | None,
    force: bool,
) -> None:
    """Record the game's UDP datagrams with their times to a pcap file.

    Refuses to overwrite an existing file unless --force is given.
    """
    _check_new_file(pcap_file, force)
    existed = pcap_file.exists()
    options, flags = _listen_options(listen)
    settings = _prepare(
        ctx, connects_to_store=False, extra_options=options, extra_flags=flags
    )
    record_udp = _part_function("f1dash_tui.ingest.service", "record_udp", "recording")
    with _stop_on_signals() as stop_event:
        if sys.stderr.isatty():  # once Ctrl-C is handled (see replay)
            until = (
                f"for {duration:g} s; Ctrl-C stops sooner"
                if duration is not None
                else "until Ctrl-C"
            )
            click.echo(
                f"recording UDP {_listen_label(settings)} to {pcap_file} {until}",
                err=True,
            )
        timer = None
        if duration is not None:
            timer = threading.Timer(duration, stop_event.set)
            timer.daemon = True
            timer.start()
        try:
            count = record_udp(settings, pcap_file, stop_event=stop_event)
        finally:
            if timer is not None:
                timer.cancel()
    if count == 0:
        raise CliError(
            f"nothing arrived on UDP {_listen_label(settings)} "
            f"({_remove_empty_capture(pcap_file, replaced=existed)}): is the game's "
            "UDP telemetry on, and set to this machine's address and port?"
        )
    click.echo(f"recorded {count:,} datagrams to {pcap_file}", err=True)


def _remove_empty_capture(pcap_file: Path, *, replaced: bool) -> str:
    """Delete a recording that holds no datagram (a retry would otherwise be told
    the file exists); say what became of it, and of the file --force replaced."""
    try:
        pcap_file.unlink()
    except OSError as error:
        logger.warning("cannot remove the empty capture %s: %s", pcap_file, error)
        return f"{pcap_file} holds no datagrams (and cannot be removed: {error})"
    if replaced:
        return f"{pcap_file} is removed; --force had already emptied the old file"
    return f"{pcap_file} is not kept"


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument(
    "pcap_file",
    metavar="FILE.pcap",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@option(
    "--to-udp",
    type=HostPort(),
    default=None,
    show_default="into the configured store",
    help="Send the datagrams to this UDP address instead of the store.",
)
@option(
    "--speed",
    type=FiniteFloatRange(min=0.01),
    default=1.0,
    help="Times the recorded pace.",
)
@option(
    "--as-fast-as-possible",
    is_flag=True,
    help="Ignore the recorded times.",
)
@click.pass_context
def replay(
    ctx: click.Context,
    pcap_file: Path,
    to_udp: tuple[str, int] | None,
    speed: float,
    as_fast_as_possible: bool,
) -> None:
    """Replay a capture into the store or to UDP, at its recorded pace.

    Pauses in the capture longer than 10 s (the game sends nothing while paused;
    spliced captures hold gaps of days) are shortened to 10 s, and said so.
    """
    if as_fast_as_possible and _typed(ctx, "speed"):
        raise click.UsageError("--speed and --as-fast-as-possible exclude each other")
    pace: float | None = None if as_fast_as_possible else speed
    _check_capture(pcap_file)
    capture_stats = _part_function(
        "f1dash_tui.telemetry.pcap", "CaptureStats", "pcap reading"
    )()
    if to_udp is not None:
        _prepare(ctx, connects_to_store=False)
        replay_to_udp = _part_function(
            "f1dash_tui.ingest.service", "replay_to_udp", "replay"
        )
        host, port = to_udp
        with _stop_on_signals() as stop_event:
            # Once Ctrl-C is handled: a Ctrl-C right after the line that invites
            # it was click's "Aborted!" and exit 1 (a flaky test found it).
            _say_sending(pcap_file.name, host, port, pace)
            count = replay_to_udp(
                pcap_file,
                host,
                port,
                speed=pace,
                stop_event=stop_event,
                capture_stats=capture_stats,
            )
        _summary(stop_event, "replay", f"sent {count:,} datagrams to {host}:{port}")
        _note_shortened_pauses(pcap_file, capture_stats, pace)
        _warn_of_capture_loss(pcap_file, capture_stats)
        _exit_if_interrupted(stop_event)
        return
    settings = _prepare(ctx, connects_to_store=True)
    open_store = _part_function("f1dash_tui.store", "open_store", "the store")
    store = open_store(settings.store)
    try:
        replay_to_store = _part_function(
            "f1dash_tui.ingest.service", "replay_to_store", "replay"
        )
        with _stop_on_signals() as stop_event:
            stats = replay_to_store(
                pcap_file,
                store,
                speed=pace,
                stop_event=stop_event,
                source="replay",
                settings=settings.ingest,
                capture_stats=capture_stats,
                status_stream=sys.stderr if sys.stderr.isatty() else None,
            )
    finally:
        store.close()
    _summary(
        stop_event,
        "replay",
        f"replayed {pcap_file} into {_store_label(settings)}: {stats}",
    )
    _note_shortened_pauses(pcap_file, capture_stats, pace)
    _warn_of_capture_loss(pcap_file, capture_stats)
    _exit_if_interrupted(stop_event)
    if stats.bad_packets == stats.packets_total:
        raise CliError(
            f"none of the {stats.packets_total:,} datagrams in {pcap_file} is F1 "
            "telemetry (see the bad counts above); is it a capture of the game's "
            "UDP port?"
        )
    if stats.spooled_rows:
        raise StoreError(
            f"the store failed ({stats.store_error or 'unreachable'}): "
            f"{stats.spooled_rows:,} rows are kept in the local spool and go in "
            "with the next ingest or replay into this store"
        )


def _say_sending(what: str, host: str, port: int, pace: float | None) -> None:
    """On a terminal, the line that starts a send to UDP: a paced send of a long
    race runs for an hour, and nothing else is printed until it ends."""
    if not sys.stderr.isatty():
        return
    how = "as fast as possible" if pace is None else f"at {pace:g}x its pace"
    click.echo(f"sending {what} to UDP {host}:{port} {how}; Ctrl-C stops", err=True)


def _summary(stop_event: threading.Event, what: str, text: str) -> None:
    """The one-line summary of a replay or simulation; when the user stopped it
    early the line says so first, so that it never reads as the whole work."""
    if stop_event.is_set():
        text = f"{PROG_NAME}: {what} interrupted before the end; {text}"
    click.echo(text, err=True)


def _exit_if_interrupted(stop_event: threading.Event) -> None:
    """Exit 130 (as a shell does for Ctrl-C) when the user stopped the work early:
    the summary above says how far it got."""
    if stop_event.is_set():
        sys.exit(130)


def _note_shortened_pauses(
    pcap_file: Path, capture_stats: Any, pace: float | None
) -> None:
    """Say that a paced replay did not wait out the capture's long pauses."""
    if pace is None or not capture_stats.long_pauses:
        return
    from f1dash_tui.render.formatting import format_age
    from f1dash_tui.telemetry.replay import MAX_PAUSE_S

    count = capture_stats.long_pauses
    click.echo(
        f"{PROG_NAME}: note: {pcap_file} pauses {count:,} time{'s' * (count != 1)} "
        f"for longer than {MAX_PAUSE_S:.0f} s "
        f"({format_age(capture_stats.long_pause_s)} in all); the replay shortened "
        f"each to {MAX_PAUSE_S:.0f} s",
        err=True,
    )


def _warn_of_capture_loss(pcap_file: Path, capture_stats: Any) -> None:
    """One warning line when the capture could not give all its datagrams."""
    loss = capture_stats.data_loss()
    if loss:
        click.echo(f"f1dash-tui: warning: {pcap_file}: {loss}", err=True)


def _stats_line(stats: Any) -> str:
    status_line = getattr(stats, "status_line", None)
    return str(status_line() if callable(status_line) else stats)


def _check_capture(pcap_file: Path) -> None:
    """Fail now, in one line, if the file is not a capture or holds no UDP datagram
    (before any store opens or any summary is printed)."""
    read_pcap = _part_function("f1dash_tui.telemetry.pcap", "read_pcap", "pcap reading")
    if next(read_pcap(pcap_file), None) is None:
        raise CliError(
            f"{pcap_file} holds no UDP datagrams: nothing to replay (is it a "
            "capture of the game's UDP port?)"
        )


@cli.command(context_settings=CONTEXT_SETTINGS)
@option(
    "--cars",
    type=click.IntRange(min=1),
    default=None,
    show_default="the full grid: 20 (2025) or 22 (2026)",
    help="Cars in the race: at most 22 (--format 2025) or 24 (2026).",
)
# 100: simulator.MAX_LAPS (Session History's laps per car); the CLI module does not
# import the simulator (numpy) to draw its help.
@option("--laps", type=click.IntRange(1, 100), default=5, help="Race laps.")
@option(
    "--rate",
    type=click.IntRange(10, 120),
    default=60,
    help="Send rate in Hz, as the game's UDP setting.",
)
@option(
    "--format",
    "packet_format",
    type=click.Choice(["2025", "2026"]),
    default="2026",
    help="UDP packet format.",
)
@option(
    "--seed",
    type=click.IntRange(min=0),
    default=1,
    help="Random seed, 0 or more (same seed, same race).",
)
@option("--track", default="melbourne", help="Track outline to drive.")
@option(
    "--to-udp",
    type=HostPort(),
    default=None,
    show_default="into the configured store",
    help="Send to this UDP address at race pace.",
)
@option(
    "--pcap",
    "pcap_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a pcap file instead of the store.",
)
@option(
    "--speed",
    type=FiniteFloatRange(min=0.01),
    default=1.0,
    help="With --to-udp: times race pace (the store and pcap get it at once).",
)
@option("--force", is_flag=True, help="With --pcap: overwrite the file if it exists.")
@click.pass_context
def simulate(
    ctx: click.Context,
    cars: int | None,
    laps: int,
    rate: int,
    packet_format: str,
    seed: int,
    track: str,
    to_udp: tuple[str, int] | None,
    pcap_file: Path | None,
    speed: float,
    force: bool,
) -> None:
    """Generate a synthetic race into the store, UDP or a pcap file.

    The session is marked synthetic in the store.
    """
    if to_udp is not None and pcap_file is not None:
        raise click.UsageError("--to-udp and --pcap exclude each other")
    if to_udp is None and _typed(ctx, "speed"):
        raise click.UsageError(
            "--speed paces --to-udp only; the store and a pcap file get the race "
            "at once"
        )
    if pcap_file is not None:
        _check_new_file(pcap_file, force)
    from f1dash_tui import simulate_feed

    request = simulate_feed.RaceRequest(
        cars=cars,
        laps=laps,
        rate_hz=rate,
        packet_format=int(packet_format),
        seed=seed,
        track=track,
    )
    simulate_feed.check_request(request)
    into_store = to_udp is None and pcap_file is None
    settings = _prepare(ctx, connects_to_store=into_store)
    with _stop_on_signals() as stop_event:
        if to_udp is not None:
            host, port = to_udp
            _say_sending("a simulated race", host, port, speed)
            count = simulate_feed.simulated_race_to_udp(
                request, host, port, speed=speed, stop_event=stop_event
            )
            _summary(
                stop_event, "simulation", f"sent {count:,} datagrams to {host}:{port}"
            )
        elif pcap_file is not None:
            count = simulate_feed.simulated_race_to_pcap(
                request, pcap_file, stop_event=stop_event
            )
            _summary(
                stop_event, "simulation", f"wrote {count:,} datagrams to {pcap_file}"
            )
        else:
            open_store = _part_function("f1dash_tui.store", "open_store", "the store")
            store = open_store(settings.store)
            try:
                stats = simulate_feed.simulated_race_into_store(
                    store,
                    request=request,
                    speed=None,
                    stop_event=stop_event,
                    ingest_settings=settings.ingest,
                    status_stream=sys.stderr if sys.stderr.isatty() else None,
                )
            finally:
                store.close()
            _summary(
                stop_event,
                "simulation",
                f"simulated into {_store_label(settings)}: {stats}",
            )
    _exit_if_interrupted(stop_event)


@cli.group(context_settings=CONTEXT_SETTINGS)
def config() -> None:
    """Inspect the configuration."""


@config.command("show", context_settings=CONTEXT_SETTINGS)
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration, each value's source, secrets redacted."""
    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load()
    found = "" if loaded.config_file_found else " (not found: defaults apply)"
    click.echo(f"# config file: {loaded.config_path}{found}")
    click.echo("# precedence: default < file < env < option")
    rows = effective_values(loaded)
    width = max(len(key) + 3 + len(shown) for key, shown, _ in rows)
    for key, shown, source in rows:
        assignment = f"{key} = {shown}"
        click.echo(f"{assignment:<{width}}  # {source}")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check store, UDP port, terminal and versions (non-zero if wrong)."""
    settings = _prepare(ctx, connects_to_store=True)
    from f1dash_tui.doctor import run_checks

    report = run_checks(settings)
    for line in report.lines():
        click.echo(line)
    ctx.exit(0 if report.ok else 1)


def main() -> None:
    """Console-script entry point."""
    cli()
