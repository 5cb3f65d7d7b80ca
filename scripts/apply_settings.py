"""Apply airflow_settings.yaml (pools, connections, variables) to the metadata database, like the Astro CLI.

The file has the Astro CLI's format::

    airflow:
      connections:
        - conn_id: aws_default
          conn_type: aws
          conn_login: ...
          conn_extra: {region_name: eu-central-1}
      pools:
        - pool_name: datasphere_sync
          pool_slot: 8
          pool_description: ...
      variables:
        - variable_name: ...
          variable_value: ...

Applying is idempotent: an entry that exists is updated in place, never duplicated. Reading and checking
the file needs no Airflow; :func:`apply_settings` needs an Airflow configured for the target metadata
database, which is why ``scripts.local_stack`` runs this module as ``python -m scripts.apply_settings FILE``
in a process that carries the stack's ``AIRFLOW_HOME``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

log = logging.getLogger(__name__)

_CONNECTION_KEYS = frozenset(
    {
        "conn_id",
        "conn_type",
        "conn_host",
        "conn_schema",
        "conn_login",
        "conn_password",
        "conn_port",
        "conn_extra",
        "conn_uri",
        "conn_description",
    }
)
_POOL_KEYS = frozenset({"pool_name", "pool_slot", "pool_description", "pool_include_deferred"})
_VARIABLE_KEYS = frozenset({"variable_name", "variable_value", "variable_description"})
_SECTIONS = ("connections", "pools", "variables")


class SettingsError(ValueError):
    """The settings file is malformed; ``problems`` names every bad entry, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class PoolSetting:
    """One pool: a cap on how many task slots run at once."""

    name: str
    slots: int
    description: str = ""
    include_deferred: bool = False


@dataclass(frozen=True)
class ConnectionSetting:
    """One Airflow connection; ``uri`` and the separate fields are mutually exclusive."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    uri: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class VariableSetting:
    """One Airflow variable; a mapping or list value is stored as JSON."""

    key: str
    value: str
    description: str | None = None


@dataclass(frozen=True)
class AirflowSettings:
    """Everything the settings file declares."""

    pools: tuple[PoolSetting, ...] = ()
    connections: tuple[ConnectionSetting, ...] = ()
    variables: tuple[VariableSetting, ...] = ()


@dataclass(frozen=True)
class AppliedSettings:
    """What applying changed: names created and names updated, per kind."""

    created: dict[str, list[str]]
    updated: dict[str, list[str]]

    def describe(self) -> str:
        """One line an operator can read: counts per kind."""
        parts = []
        for kind in _SECTIONS:
            created, updated = len(self.created.get(kind, [])), len(self.updated.get(kind, []))
            parts.append(f"{kind}: {created} created, {updated} updated")
        return "; ".join(parts)


def load_settings(path: Path) -> AirflowSettings:
    """Read and check a settings file.

    :param path: the ``airflow_settings.yaml`` to read.
    :raises SettingsError: naming the file and every bad entry.
    """
    label = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError([f"{path}: cannot read: {error.strerror or error}"]) from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark is not None else label
        problem = getattr(error, "problem", None) or str(error)
        raise SettingsError([f"{where}: not valid YAML: {problem}"]) from error
    return parse_settings(document, source=label)


def parse_settings(document: Any, *, source: str = "airflow_settings.yaml") -> AirflowSettings:
    """Check an already parsed settings document; every bad entry is reported, not just the first.

    :param document: the YAML document (``None`` for an empty file).
    :param source: the file name used in error messages.
    :raises SettingsError: naming every bad entry as ``source: section[index] (name): problem``.
    """
    if document is None:
        return AirflowSettings()
    if not isinstance(document, dict):
        raise SettingsError([f"{source}: the top level must be a mapping with an 'airflow' key"])
    unknown_top = sorted(set(document) - {"airflow"})
    problems = [f"{source}: unknown top-level key '{key}'; expected 'airflow'" for key in unknown_top]
    airflow = document.get("airflow") or {}
    if not isinstance(airflow, dict):
        raise SettingsError([*problems, f"{source}: 'airflow' must be a mapping"])
    problems += [
        f"{source}: airflow: unknown key '{key}'; expected one of {list(_SECTIONS)}"
        for key in sorted(set(airflow) - set(_SECTIONS))
    ]

    pools = _parse_section(airflow, "pools", _parse_pool, source, problems)
    connections = _parse_section(airflow, "connections", _parse_connection, source, problems)
    variables = _parse_section(airflow, "variables", _parse_variable, source, problems)
    problems += _duplicates(source, "pools", [p.name for p in pools])
    problems += _duplicates(source, "connections", [c.conn_id for c in connections])
    problems += _duplicates(source, "variables", [v.key for v in variables])
    if problems:
        raise SettingsError(problems)
    return AirflowSettings(pools=tuple(pools), connections=tuple(connections), variables=tuple(variables))


def point_at_local_services(settings: AirflowSettings, endpoints: Mapping[str, str]) -> AirflowSettings:
    """Rewrite connections so they reach the local emulators on the ports actually chosen.

    An ``aws`` connection gets ``endpoint_url`` (and dummy credentials where it has none, since moto
    accepts any); a ``datasphere`` connection gets the emulator as its host, and its ``token_url`` moved
    to the emulator keeping the path. Connections of other types are left as they are.

    :param settings: the settings as the file declares them.
    :param endpoints: base URL per connection type, e.g. ``{"aws": "http://127.0.0.1:5000"}``.
    """
    rewritten = []
    for connection in settings.connections:
        base = endpoints.get((connection.conn_type or "").lower())
        if base is None or connection.uri is not None:
            rewritten.append(connection)
        elif connection.conn_type == "aws":
            rewritten.append(_point_aws_at(connection, base))
        else:
            rewritten.append(_point_host_at(connection, base))
    return replace(settings, connections=tuple(rewritten))


def apply_settings(settings: AirflowSettings) -> AppliedSettings:
    """Create or update every pool, connection and variable in the configured metadata database.

    :param settings: checked settings, e.g. from :func:`load_settings`.
    """
    # The ORM models, not the task SDK's: this writes the metadata database directly, as the CLI does.
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    created: dict[str, list[str]] = {kind: [] for kind in _SECTIONS}
    updated: dict[str, list[str]] = {kind: [] for kind in _SECTIONS}
    with create_session() as session:
        for pool in settings.pools:
            exists = Pool.get_pool(pool.name, session=session) is not None
            Pool.create_or_update_pool(
                pool.name, pool.slots, pool.description, pool.include_deferred, session=session
            )
            (updated if exists else created)["pools"].append(pool.name)

        for wanted in settings.connections:
            existing = session.query(Connection).filter(Connection.conn_id == wanted.conn_id).one_or_none()
            target = existing if existing is not None else Connection(conn_id=wanted.conn_id)
            _fill_connection(target, wanted)
            if existing is None:
                session.add(target)
            (updated if existing is not None else created)["connections"].append(wanted.conn_id)

        for variable in settings.variables:
            exists = session.query(Variable).filter(Variable.key == variable.key).one_or_none() is not None
            Variable.set(variable.key, variable.value, description=variable.description, session=session)
            (updated if exists else created)["variables"].append(variable.key)
    return AppliedSettings(created=created, updated=updated)


def main(argv: Sequence[str] | None = None) -> int:
    """Apply a settings file to the Airflow that the environment configures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings_file", type=Path, help="the airflow_settings.yaml to apply")
    parser.add_argument(
        "--endpoints",
        default="{}",
        help='JSON object of base URL per connection type, e.g. {"aws": "http://127.0.0.1:5000"}',
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.settings_file)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    settings = point_at_local_services(settings, json.loads(args.endpoints))
    applied = apply_settings(settings)
    print(f"{args.settings_file.name}: {applied.describe()}")
    return 0


def _parse_section(
    airflow: Mapping[str, Any], section: str, parse_entry: Any, source: str, problems: list[str]
) -> list[Any]:
    entries = airflow.get(section)
    if entries is None:
        return []
    if not isinstance(entries, list):
        problems.append(f"{source}: {section} must be a list of entries")
        return []
    parsed = []
    for index, entry in enumerate(entries):
        where = f"{source}: {section}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping of fields")
            continue
        result = parse_entry(entry)
        if result is None:
            continue  # the Astro template's blank entry: every field empty
        if isinstance(result, list):
            label = entry.get(_NAME_FIELD[section])
            named = f"{where} ({label})" if label else where
            problems.extend(f"{named}: {problem}" for problem in result)
        else:
            parsed.append(result)
    return parsed


_NAME_FIELD = {"pools": "pool_name", "connections": "conn_id", "variables": "variable_name"}


def _parse_pool(entry: Mapping[str, Any]) -> PoolSetting | list[str] | None:
    if _is_blank(entry):
        return None
    problems = _unknown_keys(entry, _POOL_KEYS)
    name = entry.get("pool_name")
    if not isinstance(name, str) or not name.strip():
        problems.append("pool_name is required and must be a non-empty string")
    slots = entry.get("pool_slot")
    if isinstance(slots, bool) or not isinstance(slots, int):
        problems.append(f"pool_slot must be an integer, got {slots!r}")
    elif slots < -1:
        problems.append(f"pool_slot must be -1 (unlimited) or more, got {slots}")
    description = entry.get("pool_description") or ""
    include_deferred = entry.get("pool_include_deferred", False)
    if not isinstance(include_deferred, bool):
        problems.append(f"pool_include_deferred must be true or false, got {include_deferred!r}")
    if problems or not isinstance(slots, int):
        return problems
    return PoolSetting(
        name=str(name), slots=slots, description=str(description), include_deferred=include_deferred
    )


def _parse_connection(entry: Mapping[str, Any]) -> ConnectionSetting | list[str] | None:
    if _is_blank(entry):
        return None
    problems = _unknown_keys(entry, _CONNECTION_KEYS)
    conn_id = entry.get("conn_id")
    if not isinstance(conn_id, str) or not conn_id.strip():
        problems.append("conn_id is required and must be a non-empty string")
    uri = entry.get("conn_uri")
    if uri is not None:
        clashing = sorted(k for k in entry if k not in {"conn_id", "conn_uri", "conn_description"})
        if clashing:
            problems.append(f"conn_uri cannot be combined with {clashing}")
    elif not entry.get("conn_type"):
        problems.append("conn_type is required (or give conn_uri)")
    port = entry.get("conn_port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        problems.append(f"conn_port must be an integer, got {port!r}")
    extra = _parse_extra(entry.get("conn_extra"), problems)
    if problems:
        return problems
    return ConnectionSetting(
        conn_id=str(conn_id),
        conn_type=_text(entry.get("conn_type")),
        host=_text(entry.get("conn_host")),
        schema=_text(entry.get("conn_schema")),
        login=_text(entry.get("conn_login")),
        password=_text(entry.get("conn_password")),
        port=port,
        extra=extra,
        uri=_text(uri),
        description=_text(entry.get("conn_description")),
    )


def _parse_variable(entry: Mapping[str, Any]) -> VariableSetting | list[str] | None:
    if _is_blank(entry):
        return None
    problems = _unknown_keys(entry, _VARIABLE_KEYS)
    key = entry.get("variable_name")
    if not isinstance(key, str) or not key.strip():
        problems.append("variable_name is required and must be a non-empty string")
    if "variable_value" not in entry:
        problems.append("variable_value is required")
    if problems:
        return problems
    value = entry["variable_value"]
    text = json.dumps(value) if isinstance(value, dict | list) else "" if value is None else str(value)
    return VariableSetting(key=str(key), value=text, description=_text(entry.get("variable_description")))


def _parse_extra(extra: Any, problems: list[str]) -> dict[str, Any]:
    if extra is None or extra == "":
        return {}
    if isinstance(extra, dict):
        return dict(extra)
    if isinstance(extra, str):
        try:
            decoded = json.loads(extra)
        except json.JSONDecodeError as error:
            problems.append(f"conn_extra is a string but not JSON: {error.msg}")
            return {}
        if isinstance(decoded, dict):
            return decoded
    problems.append("conn_extra must be a mapping (or a JSON object string)")
    return {}


def _unknown_keys(entry: Mapping[str, Any], known: frozenset[str]) -> list[str]:
    problems = []
    for key in sorted(set(entry) - known, key=str):
        hint = _nearest(str(key), known)
        problems.append(f"unknown field '{key}'" + (f"; did you mean '{hint}'?" if hint else ""))
    return problems


def _nearest(word: str, choices: frozenset[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _duplicates(source: str, section: str, names: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append(f"{source}: {section}: '{name}' is declared more than once")
        seen.add(name)
    return problems


def _is_blank(entry: Mapping[str, Any]) -> bool:
    return all(value is None or value == "" for value in entry.values())


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _point_aws_at(connection: ConnectionSetting, base: str) -> ConnectionSetting:
    extra = {**connection.extra, "endpoint_url": base}
    extra.setdefault("region_name", "eu-central-1")
    return replace(
        connection,
        extra=extra,
        login=connection.login or "testing",
        password=connection.password or "testing",
    )


def _point_host_at(connection: ConnectionSetting, base: str) -> ConnectionSetting:
    extra = dict(connection.extra)
    for key, value in connection.extra.items():
        if key.endswith("_url") and isinstance(value, str) and value.startswith(("http://", "https://")):
            extra[key] = _rebase(value, base)
    return replace(connection, host=base, port=None, extra=extra)


def _rebase(url: str, base: str) -> str:
    """Keep ``url``'s path and query, take scheme and host:port from ``base``."""
    target, original = urlsplit(base), urlsplit(url)
    return urlunsplit((target.scheme, target.netloc, original.path, original.query, original.fragment))


def _fill_connection(target: Any, wanted: ConnectionSetting) -> None:
    if wanted.uri is not None:
        from airflow.models.connection import Connection

        parsed = Connection(conn_id=wanted.conn_id, uri=wanted.uri)
        wanted = ConnectionSetting(
            conn_id=wanted.conn_id,
            conn_type=parsed.conn_type,
            host=parsed.host,
            schema=parsed.schema,
            login=parsed.login,
            password=parsed.password,
            port=parsed.port,
            extra=parsed.extra_dejson,
            description=wanted.description,
        )
    target.conn_type = wanted.conn_type
    target.host = wanted.host
    target.schema = wanted.schema
    target.login = wanted.login
    target.password = wanted.password
    target.port = wanted.port
    target.extra = json.dumps(wanted.extra) if wanted.extra else None
    target.description = wanted.description


if __name__ == "__main__":
    sys.exit(main())
