"""The ``f1dash-tui`` command line (click). Subcommands are wired in as they land."""

from __future__ import annotations

import click

from f1dash_tui import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="f1dash-tui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Live F1 game telemetry dashboard for the terminal."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def main() -> None:
    """Console-script entry point."""
    cli()
