"""``truceline listen`` and ``truceline replay``: field ingest over MQTT, and a simulated day published to it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    TIME_FORM,
    DataDir,
    StoreUrl,
    app,
    fail,
    open_store,
    parse_time,
    store_location,
)

MqttUrl = Annotated[
    str,
    typer.Option(
        "--mqtt",
        envvar="TRUCELINE_MQTT",
        help="The broker, mqtt://USER[:PASSWORD]@HOST:PORT (env TRUCELINE_MQTT). A password left out comes from "
        "TRUCELINE_MQTT_PASSWORD or --credentials; it is never printed.",
    ),
]
Credentials = Annotated[
    Path | None,
    typer.Option(
        "--credentials",
        envvar="TRUCELINE_MQTT_CREDENTIALS",
        help="A file of USER:PASSWORD lines (what scripts/mosquitto.sh writes, 0600).",
    ),
]


def _broker(url: str, credentials: Path | None) -> Any:
    from truceline.core.errors import InvalidInput
    from truceline.service.mqtt_topics import parse_broker_url

    try:
        return parse_broker_url(url).with_password(credentials)
    except InvalidInput as exc:
        raise fail(f"--mqtt: {exc}", 2) from None


def _rejects_path(data: Path, store_url: str | None, rejects: Path | None) -> Path:
    from truceline.store.registry import data_dir_of

    if rejects is not None:
        return rejects
    _, location = store_location(data, store_url)
    folder = data_dir_of(location)
    if folder is None:
        raise fail("--rejects FILE: the store keeps no folder to put the refused messages beside", 2)
    return Path(folder) / "mqtt-rejects.jsonl"


@app.command()
def listen(
    mqtt: MqttUrl,
    credentials: Credentials = None,
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where refused messages are kept (JSON Lines); default DATA_DIR/mqtt-rejects.jsonl."),
    ] = None,
    client_id: Annotated[str, typer.Option(help="The persistent session's client id.")] = "truceline-listener",
    not_after: Annotated[
        str | None,
        typer.Option(help=f"Latest time accepted ({TIME_FORM}), as for ingest: for an exercise dated after today."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every message.")] = False,
) -> None:
    """Store what the sensors publish over MQTT: validated as every ingest, committed, then acknowledged.

    Subscribes to truceline/+/+/detections and truceline/+/+/status at QoS 1 in a persistent session;
    refusals go to truceline/errors/CONTINGENT/SENSOR and to the rejects file. Reconnects with backoff;
    SIGTERM or Ctrl-C stops it after the message in hand. See docs/field.md.
    """
    from truceline.core.limits import InputLimits
    from truceline.service.listen import BrokerRefused, Listener, StoreUnavailable

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    broker = _broker(mqtt, credentials)
    latest = parse_time(not_after, "--not-after")
    limits = InputLimits() if latest is None else InputLimits(future_skew=dt.timedelta(0), clock=lambda: latest)
    path = _rejects_path(data, store_url, rejects)
    store = open_store(data, store_url)
    listener = Listener(store, broker, path, client_id=client_id, limits=limits)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: listener.stop())
    typer.echo(f"listening on {broker} -> {store.path} (rejects {path})", err=True)
    try:
        listener.run()
    except BrokerRefused as exc:
        raise fail(str(exc), 2) from None
    except StoreUnavailable as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()


@app.command()
def replay(
    simdir: Annotated[Path, typer.Argument(help="A simulator's output folder (truceline simulate --out).")],
    mqtt: MqttUrl,
    credentials: Credentials = None,
    speed: Annotated[float, typer.Option(help="Times faster than real time; 0: as fast as the broker takes it.")] = 1.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the last acknowledgements.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Publish a simulated day's detections and status reports at QoS 1, in time order, SPEED times real time.

    Each message goes to its sensor's topic, truceline/CONTINGENT/SENSOR/detections (or /status). With
    --credentials, each contingent publishes as its own user (the broker's ACL); without, every message
    is published as the --mqtt URL's user, which the ACL of scripts/mosquitto.sh lets publish to its own
    contingent only. Exit status 1 when the broker refused or did not acknowledge any message.
    """
    from truceline.core.errors import InvalidInput
    from truceline.service.mqtt_topics import read_credentials
    from truceline.service.replay import load_day
    from truceline.service.replay import replay as run_replay

    broker = _broker(mqtt, None)  # with --credentials, each contingent logs in as itself
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    try:
        creds = read_credentials(credentials) if credentials is not None else None
        day = load_day(simdir)
        pace = f"{speed:g} times real time" if speed > 0 else "as fast as the broker takes them"
        typer.echo(f"replaying {len(day):,} messages from {simdir} to {broker}, {pace}", err=True)
        report = run_replay(day, broker, speed, credentials=creds, timeout_s=timeout, stop=lambda: stopping[0])
    except InvalidInput as exc:
        raise fail(str(exc), 2) from None
    except OSError as exc:
        raise fail(f"{broker}: cannot reach the broker ({exc.strerror or type(exc).__name__})", 2) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        missing = report.published - report.acknowledged - report.refused
        typer.echo(
            f"published {report.published:,} ({report.detections:,} detections, {report.status_reports:,} status "
            f"reports) in {report.seconds:.1f} s: {report.acknowledged:,} acknowledged, {report.refused:,} refused"
            + (f" ({json.dumps(report.reasons)})" if report.reasons else "")
            + (f", {missing:,} unacknowledged" if missing else "")
        )
    if report.refused or report.acknowledged < report.published:
        raise typer.Exit(1)
