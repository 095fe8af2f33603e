"""The ``statekit`` command: a typer app with one subcommand per job.

Kept light to import: typer, rich and the comparison load inside the commands,
so ``import statekit.cli`` costs nothing for code that only wants ``main``.
Other subcommands (``statekit dev``) register on ``app`` in their own function below.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def compare(
    env: str = "dev",
    workload: str | None = None,
    html: Path | None = None,
    synth: bool = True,
    app: str | None = None,
) -> int:
    """Print the comparison for ``env``; write the HTML report if ``html`` is given. Returns an exit code."""
    from rich.console import Console

    from statekit.compare.artifacts import project_root
    from statekit.compare.report import build_report
    from statekit.compare.terminal import render
    from statekit.compare.workload import WorkloadError, find_workload, load_workload

    console = Console()
    try:
        profile = load_workload(find_workload(workload))
    except WorkloadError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return 2
    root = project_root()
    environments = root / "environments"
    if environments.is_dir() and not (environments / f"{env}.toml").exists():
        available = ", ".join(sorted(p.stem for p in environments.glob("*.toml")))
        console.print(
            f"[red]error:[/] --env {env}: no {environments}/{env}.toml (available: {available})",
            highlight=False,
        )
        return 2
    report = build_report(root, env, profile, synth=synth, app=app)
    render(report, console)
    if html is not None:
        from statekit.compare.html_report import write_html

        try:
            write_html(report, html)
        except OSError as exc:
            console.print(
                f"[red]error:[/] --html {html}: cannot write ({exc.strerror})", highlight=False
            )
            return 2
        console.print(f"HTML report written to {html}", highlight=False)
    return 0


def build_app() -> Any:
    import typer

    app = typer.Typer(
        help="statekit: state for serverless functions on AWS, Azure and Google Cloud.",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.callback()
    def root() -> None:
        """A group callback keeps subcommands as subcommands even while there is only one."""

    # Typer reads the default of a Path option from here (B008: no call in a default).
    html_option = typer.Option(None, "--html", help="also write a self-contained HTML report here")

    @app.command("compare")
    def compare_command(
        env: str = typer.Option("dev", "--env", help="environment name (environments/<env>.toml)"),
        workload: str | None = typer.Option(
            None,
            "--workload",
            help="workload TOML file, or a shipped example: small-web-app, busy-api, batch-pipeline",
        ),
        html: Path | None = html_option,
        synth: bool = typer.Option(
            True, "--synth/--no-synth", help="synthesize the stacks if cdktf.out lacks them"
        ),
        app_spec: str | None = typer.Option(
            None,
            "--app",
            help="the App the stacks should be (default: $STATEKIT_APP, else the environment's app)",
        ),
    ) -> None:
        """The three providers side by side: resources, capabilities, performance, cost, advice."""
        code = compare(env, workload, html, synth, app_spec)
        if code:
            raise typer.Exit(code)

    register_more_commands(app)
    return app


def register_more_commands(app: typer.Typer) -> None:
    """Subcommands beyond ``compare``."""
    import typer

    @app.command("dev")
    def dev_command(
        host: str = typer.Option(
            "127.0.0.1", "--host", help="address to bind (loopback by default)"
        ),
        port: int = typer.Option(
            8080, "--port", help="port of the app's HTTP API (0: any free one)"
        ),
        app_spec: str | None = typer.Option(
            None,
            "--app",
            help="the App to serve, pkg.module:APP (default: $STATEKIT_APP, else handlers.app:APP)",
        ),
        fire: str | None = typer.Option(
            None, "--fire", help="run this schedule of the App once, then exit"
        ),
    ) -> None:
        """Serve an App locally: HTTP functions, queue workers, local workflows, embedded state."""
        from statekit.app import AppError

        try:
            if fire is not None:
                from statekit.dev import choose_app, fire_schedule

                fire_schedule(choose_app(app_spec), fire)
                print(f"statekit dev: schedule {fire!r} ran", flush=True)
                return
            from statekit.dev import serve

            serve(host, port, app_spec)
        except AppError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        except Exception as exc:  # the job failed: its trace is in the JSON log above
            print(f"error: schedule {fire!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None


def main(argv: list[str] | None = None) -> None:
    try:
        app = build_app()
    except ImportError as exc:  # typer/rich come with the cli extra, not with the runtime adapter
        print(
            f"statekit: the command needs the cli extra ({exc.name} is missing): "
            "pip install 'statekit[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from exc
    app(args=argv if argv is not None else sys.argv[1:], prog_name="statekit")


if __name__ == "__main__":
    main()
