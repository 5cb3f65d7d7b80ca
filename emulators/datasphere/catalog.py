"""The emulator's catalog: spaces and their assets as CSN definitions, loaded from and saved to JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CATALOG_FORMAT = "datasphere-emulator-catalog/1"
DEMO_CATALOG_PATH = Path(__file__).parent / "catalogs" / "demo.json"

# Repository API path segment → CSN kind of the object.
OBJECT_TYPES = (
    "views",
    "analyticmodels",
    "localtables",
    "remotetables",
    "dataflows",
    "replicationflows",
    "transformationflows",
)
FLOW_KINDS = {
    "dataflows": "sap.dis.dataflow",
    "replicationflows": "sap.dis.replicationflow",
    "transformationflows": "sap.dis.transformationflow",
}
# Only these can be exposed for consumption and so appear in the catalog OData service.
CONSUMABLE_TYPES = frozenset({"views", "analyticmodels"})
METADATA_PREFIXES = ("datasphere", "dwc", "mixed")
CATALOG_OPTIONS = ("spaces_as_array", "repository_page_limit", "repository_ignores_paging")


class CatalogError(ValueError):
    """A catalog file or admin request that does not describe a valid catalog."""


@dataclass(frozen=True)
class Asset:
    """One repository object of a space: its type, whether it is exposed, and its CSN definition.

    Assets are replaced, never changed in place, so catalogs can share them (see :meth:`Catalog.copy`).
    """

    name: str
    object_type: str
    definition: dict[str, Any]
    exposed: bool = False

    @property
    def consumable(self) -> bool:
        """True when the catalog lists the asset: an exposed view or analytic model."""
        return self.exposed and self.object_type in CONSUMABLE_TYPES

    @property
    def label(self) -> str:
        return str(self.definition.get("@EndUserText.label") or self.name)

    @property
    def semantic_usage(self) -> str | None:
        pattern = self.definition.get("@ObjectModel.modelingPattern")
        return str(pattern["#"]) if isinstance(pattern, dict) and "#" in pattern else None

    @property
    def supports_analytical_queries(self) -> bool:
        return self.object_type == "analyticmodels" or self.semantic_usage in _ANALYTICAL_USAGES

    @property
    def has_parameters(self) -> bool:
        return bool(self.definition.get("params"))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.object_type,
            "exposed": self.exposed,
            "definition": self.definition,
        }


_ANALYTICAL_USAGES = frozenset({"ANALYTICAL_DATASET", "ANALYTICAL_FACT", "ANALYTICAL_CUBE"})


@dataclass
class Space:
    """A Datasphere space; ``member`` False means the OAuth client may list it but not read it."""

    name: str
    label: str
    member: bool = True
    # Which API prefix the catalog's metadata URLs use: one live tenant mixes both ("mixed").
    metadata_prefix: str = "datasphere"
    assets: dict[str, Asset] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "member": self.member,
            "metadata_prefix": self.metadata_prefix,
            "assets": [asset.to_json() for asset in self.assets.values()],
        }


@dataclass
class Catalog:
    """Everything a tenant serves, and how it answers.

    ``spaces_as_array`` makes ``spaces`` answer with a bare JSON array. ``repository_page_limit`` caps a
    repository listing page whatever its ``top`` asks; ``repository_ignores_paging`` makes a listing
    answer every object whatever ``top`` and ``skip`` say. Both let tests play a tenant whose paging
    differs from what the client asks for.
    """

    spaces: dict[str, Space] = field(default_factory=dict)
    spaces_as_array: bool = False
    repository_page_limit: int = 200
    repository_ignores_paging: bool = False

    def assets(self) -> Iterator[Asset]:
        for space in self.spaces.values():
            yield from space.assets.values()

    def copy(self) -> Catalog:
        """A catalog whose spaces and asset tables can change without touching this one."""
        spaces = {name: replace(space, assets=dict(space.assets)) for name, space in self.spaces.items()}
        return replace(self, spaces=spaces)

    def options(self) -> dict[str, Any]:
        """Return the tenant options, as a catalog file and the admin API spell them."""
        return {name: getattr(self, name) for name in CATALOG_OPTIONS}

    def set_options(self, options: dict[str, Any], *, where: str = "options") -> None:
        """Change tenant options, checking every one before changing any.

        :raises CatalogError: naming ``where`` and the option, for an unknown option or a bad value.
        """
        unknown = sorted(set(options) - set(CATALOG_OPTIONS))
        if unknown:
            raise CatalogError(
                f"{where}: unknown options {', '.join(unknown)}; use {', '.join(CATALOG_OPTIONS)}"
            )
        limit = options.get("repository_page_limit", self.repository_page_limit)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise CatalogError(f"{where}: repository_page_limit must be a positive integer, got {limit!r}")
        for name, value in options.items():
            setattr(self, name, value if name == "repository_page_limit" else bool(value))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CATALOG_FORMAT,
            "options": self.options(),
            "spaces": [space.to_json() for space in self.spaces.values()],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any], *, source: str = "catalog") -> Catalog:
        """Build a catalog from its JSON form, naming the first offending entry on error.

        :param document: the parsed catalog file.
        :param source: where it came from, used in error messages.
        """
        if document.get("format") != CATALOG_FORMAT:
            raise CatalogError(f"{source}: 'format' must be {CATALOG_FORMAT!r}")
        catalog = cls()
        catalog.set_options(document.get("options") or {}, where=f"{source}: options")
        for index, raw_space in enumerate(document.get("spaces") or []):
            space = parse_space(raw_space, where=f"{source}: spaces[{index}]")
            if space.name in catalog.spaces:
                raise CatalogError(f"{source}: spaces[{index}]: duplicate space {space.name!r}")
            catalog.spaces[space.name] = space
        return catalog


def parse_space(raw: dict[str, Any], *, where: str) -> Space:
    """Read one space entry of a catalog file."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise CatalogError(f"{where}: 'name' is required")
    prefix = raw.get("metadata_prefix", "datasphere")
    if prefix not in METADATA_PREFIXES:
        raise CatalogError(f"{where}: 'metadata_prefix' must be one of {', '.join(METADATA_PREFIXES)}")
    space = Space(
        name=name,
        label=str(raw.get("label") or name),
        member=bool(raw.get("member", True)),
        metadata_prefix=prefix,
    )
    for index, raw_asset in enumerate(raw.get("assets") or []):
        asset = parse_asset(raw_asset, where=f"{where}.assets[{index}]")
        if asset.name in space.assets:
            raise CatalogError(f"{where}.assets[{index}]: duplicate asset {asset.name!r}")
        space.assets[asset.name] = asset
    return space


def parse_asset(raw: dict[str, Any], *, where: str, name: str | None = None) -> Asset:
    """Read one asset entry: ``name``, ``type``, ``exposed`` and a CSN ``definition``.

    A full CSN document (``{"csn": {"definitions": {NAME: {...}}}}``) is accepted in place of
    ``definition`` so that objects exported from a real tenant can be pasted in unchanged.
    """
    object_type = raw.get("type")
    if object_type not in OBJECT_TYPES:
        raise CatalogError(f"{where}: 'type' must be one of {', '.join(OBJECT_TYPES)}, got {object_type!r}")
    name = name or raw.get("name")
    definition = raw.get("definition")
    csn = raw.get("csn")
    if definition is None and isinstance(csn, dict):
        definitions = csn.get("definitions") or {}
        if name is None and len(definitions) == 1:
            name = next(iter(definitions))
        definition = definitions.get(name) if name else None
    if not isinstance(name, str) or not name:
        raise CatalogError(f"{where}: 'name' is required")
    if not isinstance(definition, dict):
        raise CatalogError(f"{where}: asset {name!r} needs a CSN 'definition' object")
    _check_definition(definition, object_type, where=f"{where} ({name})")
    return Asset(name=name, object_type=object_type, definition=definition, exposed=bool(raw.get("exposed")))


def _check_definition(definition: dict[str, Any], object_type: str, *, where: str) -> None:
    if object_type in FLOW_KINDS:
        for key in ("sources", "targets"):
            if not isinstance(definition.get(key, []), list):
                raise CatalogError(f"{where}: flow '{key}' must be a list of technical names")
        return
    elements = definition.get("elements")
    if not isinstance(elements, dict):
        raise CatalogError(f"{where}: 'elements' must be an object of columns")
    for column, element in elements.items():
        if not isinstance(element, dict):
            raise CatalogError(f"{where}: element {column!r} must be an object")


def load_catalog(spec: str) -> Catalog:
    """Load a catalog from ``demo``, ``synthetic:ASSETS[:SPACES[:SEED]]`` or a JSON file path.

    :param spec: what to load, as given on the command line.
    """
    if spec == "demo":
        return load_catalog_file(DEMO_CATALOG_PATH)
    if spec.startswith("synthetic:"):
        from emulators.datasphere.synthetic import generate

        parts = spec.split(":")[1:]
        try:
            numbers = [int(part) for part in parts]
        except ValueError as error:
            raise CatalogError(
                f"bad synthetic catalog spec {spec!r}: use synthetic:ASSETS:SPACES[:SEED]"
            ) from error
        assets = numbers[0] if numbers else 10_000
        spaces = numbers[1] if len(numbers) > 1 else 10
        seed = numbers[2] if len(numbers) > 2 else 0
        return Catalog.from_json(generate(spaces=spaces, assets=assets, seed=seed), source=spec)
    return load_catalog_file(Path(spec))


def load_catalog_file(path: Path) -> Catalog:
    """Read a catalog JSON file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CatalogError(f"{path}: cannot read catalog: {error}") from error
    return Catalog.from_json(document, source=str(path))
