"""Load the rules folder: YAML with line numbers, one clear error per mistake, and cross-rule checks."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from include.datasphere_glue.rules.errors import (
    PATTERN_MEANING,
    RuleError,
    RulesError,
    describe_validation_error,
    dotted,
)
from include.datasphere_glue.rules.model import (
    ENV_NAME_PATTERN,
    Defaults,
    PoolSpec,
    ResolvedRule,
    RulesFile,
    SyncRule,
    nearest,
    resolve,
)

__all__ = ["ENV_VARIABLE", "RuleError", "RuleSet", "RulesError", "load_rules"]

log = logging.getLogger(__name__)

ENV_VARIABLE = "DATASPHERE_GLUE_ENV"
RULES_SUFFIXES = (".yaml", ".yml")
TOP_LEVEL_KEYS = ("defaults", "pools", "rules")

# The C parser is several times faster; the pure-Python one gives the same nodes and marks.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader with its tag resolution cached: rules files repeat the same scalars a lot."""

    _resolved: dict[tuple[str, bool], str] = {}

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit[0])
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 50_000:  # bounded, whatever the files hold
                self._resolved[key] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # no path resolvers are registered; skip the bookkeeping for them

    def ascend_resolver(self) -> None:
        pass


_SETTINGS_FIELD = {"JobSettings": "job", "Target": "target"}


@dataclass
class RuleSet:
    """What a rules folder holds once loaded: valid rules, every error, and the declared pools.

    :param rules: valid rules with their defaults applied, enabled and disabled, in file and line order.
    :param errors: every mistake found, in file and line order; a rule with an error is not in ``rules``.
    :param pools: Airflow pools declared under ``pools:``, by name.
    :param defaults: the defaults the rules were resolved with.
    """

    rules: list[ResolvedRule]
    errors: list[RuleError]
    pools: dict[str, PoolSpec]
    defaults: Defaults

    @property
    def enabled(self) -> list[ResolvedRule]:
        """The rules that compile to a DAG."""
        return [rule for rule in self.rules if rule.rule.enabled]

    def get(self, name: str) -> ResolvedRule | None:
        """The valid rule called ``name``, or None.

        :param name: a rule name.
        """
        return next((rule for rule in self.rules if rule.name == name), None)


def load_rules(folder: Path, *, strict: bool = False) -> RuleSet:
    """Load and validate every ``*.yaml``/``*.yml`` file under ``folder``, in sorted path order.

    A rule with a mistake is left out and its error recorded; the other rules still load. A YAML syntax
    error leaves out that file only. The environment variable ``DATASPHERE_GLUE_ENV``, when set,
    overrides ``defaults.env``.

    :param folder: the rules folder.
    :param strict: raise instead of returning when anything is wrong (for CI).
    :raises RulesError: in strict mode, carrying every error found.
    """
    started = time.perf_counter()
    folder = Path(folder)
    loading = _Loading(folder)
    files = _rules_files(folder)
    if not folder.is_dir():
        loading.errors.append(RuleError(str(folder), 0, None, None, "rules folder does not exist"))
    for path in files:
        loading.read_file(path)
    rule_set = loading.finish()
    log.info(
        "Loaded %d rules (%d enabled) from %d files in %.3fs with %d errors",
        len(rule_set.rules),
        len(rule_set.enabled),
        len(files),
        time.perf_counter() - started,
        len(rule_set.errors),
    )
    if strict and rule_set.errors:
        raise RulesError(rule_set.errors)
    return rule_set


def _rules_files(folder: Path) -> list[Path]:
    """Rules files under the folder, hidden ones skipped, sorted so every parse sees the same order."""
    if not folder.is_dir():
        return []
    found = [
        path
        for path in folder.rglob("*")
        if path.suffix in RULES_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda path: path.relative_to(folder).as_posix())


@dataclass
class _Candidate:
    """A rule as read from a file, before and after validation."""

    raw: Any
    node: yaml.Node
    file: str
    relative_file: str
    line: int
    name: str | None
    rule: SyncRule | None = None
    resolved: ResolvedRule | None = None


@dataclass
class _Declaration:
    """Where the defaults or the pools were declared."""

    file: str
    line: int


@dataclass
class _Loading:
    """State of one load: files read so far, candidates, declarations and errors."""

    folder: Path
    errors: list[RuleError] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    defaults: Defaults | None = None
    defaults_declared: _Declaration | None = None
    defaults_broken: bool = False
    pools: dict[str, PoolSpec] = field(default_factory=dict)
    broken_pools: set[str] = field(default_factory=set)
    pools_declared: _Declaration | None = None

    def read_file(self, path: Path) -> None:
        """Parse one rules file and collect its defaults, pools and rules."""
        file = str(path)
        relative_file = path.relative_to(self.folder).as_posix()
        parsed = self._parse(path, file)
        if parsed is None:
            return
        root, data, has_duplicate_keys = parsed
        if data is None:
            return  # an empty file (or only comments) holds nothing
        if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
            self.errors.append(
                RuleError(
                    file,
                    root.start_mark.line + 1,
                    None,
                    None,
                    "a rules file must be a mapping with 'rules:' (and, in one file only, 'defaults:' "
                    "and 'pools:')",
                )
            )
            return
        broken_rules = self._check_duplicate_keys(root, file) if has_duplicate_keys else set()
        for key in data:
            # "x-" keys hold YAML anchors that rules share, as in docker compose files.
            if key not in TOP_LEVEL_KEYS and not str(key).startswith("x-"):
                self.errors.append(
                    RuleError(
                        file,
                        _line_of(root, (key,)),
                        None,
                        str(key),
                        f"unknown top-level key; a rules file holds {', '.join(TOP_LEVEL_KEYS)} "
                        "(and x-... keys for shared YAML anchors)",
                        nearest(str(key), TOP_LEVEL_KEYS),
                    )
                )
        if "defaults" in data:
            self._read_defaults(data["defaults"], root, file)
        if "pools" in data:
            self._read_pools(data["pools"], root, file)
        if "rules" in data:
            self._read_rules(data["rules"], root, file, relative_file, broken_rules)

    def _parse(self, path: Path, file: str) -> tuple[yaml.Node, Any, bool] | None:
        """Compose the file's node tree (for line numbers) and build its data, or record why not.

        :return: the root node, the data, and whether any mapping repeats a key.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.errors.append(RuleError(file, 0, None, None, f"cannot read the file: {error}"))
            return None
        loader = _YamlLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            builder = _DataBuilder(loader)
            return root, builder.build(root), builder.has_duplicate_keys
        except yaml.MarkedYAMLError as error:
            self.errors.append(_syntax_error(file, error))
            return None
        except yaml.YAMLError as error:
            self.errors.append(RuleError(file, 0, None, None, f"YAML error: {error}"))
            return None
        finally:
            loader.dispose()

    def _check_duplicate_keys(self, root: yaml.MappingNode, file: str) -> set[int]:
        """Report keys given twice in one mapping (YAML would silently keep the last).

        :return: indexes of rules (under ``rules:``) that hold a duplicate key.
        """
        broken_rules: set[int] = set()
        for path, key, first_line, line in _duplicate_keys(root):
            rule_name = None
            field_path: tuple[Any, ...] = (*path, key)
            if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
                broken_rules.add(path[1])
                rule_name = _rule_name_at(root, path[1])
                field_path = field_path[2:]
            self.errors.append(
                RuleError(
                    file,
                    line,
                    rule_name,
                    dotted(field_path),
                    f"key given twice (first at line {first_line}); YAML would silently keep only the last",
                )
            )
        return broken_rules

    def _read_defaults(self, raw: Any, root: yaml.MappingNode, file: str) -> None:
        line = _line_of(root, ("defaults",))
        if self.defaults_declared is not None:
            first = self.defaults_declared
            self.errors.append(
                RuleError(
                    file,
                    line,
                    None,
                    "defaults",
                    f"defaults are already declared in {first.file}:{first.line}; only one file may "
                    "carry them, so these are ignored",
                )
            )
            return
        self.defaults_declared = _Declaration(file, line)
        try:
            self.defaults = Defaults.model_validate(raw if raw is not None else {})
        except ValidationError as error:
            self.defaults_broken = True
            self.errors.extend(_errors_from(error, Defaults, file, root, ("defaults",), (), None))

    def _read_pools(self, raw: Any, root: yaml.MappingNode, file: str) -> None:
        line = _line_of(root, ("pools",))
        if self.pools_declared is not None:
            first = self.pools_declared
            self.errors.append(
                RuleError(
                    file,
                    line,
                    None,
                    "pools",
                    f"pools are already declared in {first.file}:{first.line}; only one file may "
                    "carry them, so these are ignored",
                )
            )
            return
        self.pools_declared = _Declaration(file, line)
        if raw is None:
            return  # "pools:" with nothing under it declares none
        if not isinstance(raw, dict):
            self.errors.append(
                RuleError(file, line, None, "pools", "must map pool names to {slots, description}")
            )
            return
        # Each pool alone, so one bad pool leaves the others usable.
        for name, spec in raw.items():
            try:
                pool_file = RulesFile.model_validate({"pools": {name: spec}})
            except ValidationError as error:
                self.broken_pools.add(str(name))
                self.errors.extend(_errors_from(error, RulesFile, file, root, (), (), None))
            else:
                self.pools.update(pool_file.pools)

    def _read_rules(
        self, raw: Any, root: yaml.MappingNode, file: str, relative_file: str, broken_rules: set[int]
    ) -> None:
        rules_node = _child(root, "rules")
        if not isinstance(raw, list) or not isinstance(rules_node, yaml.SequenceNode):
            if raw is not None:
                self.errors.append(
                    RuleError(file, _line_of(root, ("rules",)), None, "rules", "must be a list of rules")
                )
            return
        for index, (item, node) in enumerate(zip(raw, rules_node.value, strict=True)):
            name = item.get("name") if isinstance(item, dict) else None
            candidate = _Candidate(
                raw=item,
                node=node,
                file=file,
                relative_file=relative_file,
                line=node.start_mark.line + 1,
                name=name if isinstance(name, str) else None,
            )
            self.candidates.append(candidate)
            if index in broken_rules:
                continue  # already reported: a key given twice
            self._validate_rule(candidate)

    def _validate_rule(self, candidate: _Candidate) -> None:
        if not isinstance(candidate.raw, dict):
            self.errors.append(
                RuleError(candidate.file, candidate.line, None, None, "a rule must be a mapping of fields")
            )
            return
        try:
            candidate.rule = SyncRule.model_validate(candidate.raw)
        except ValidationError as error:
            self.errors.extend(
                _errors_from(error, SyncRule, candidate.file, candidate.node, (), (), candidate.name)
            )

    def finish(self) -> RuleSet:
        """Resolve the rules against the defaults and run the checks that span rules."""
        defaults = self.defaults or Defaults()
        env = self._environment()
        if env is None:
            pass  # its error already says that no rule is loaded
        elif self.defaults_broken:
            self._drop_all()
        else:
            self._reject_duplicate_names()
            for candidate in self.candidates:
                self._resolve(candidate, defaults, env)
            self._check_pools(defaults)
            self._check_dependencies()
        self.errors.sort(key=lambda error: (error.file, error.line))
        return RuleSet(
            rules=[candidate.resolved for candidate in self.candidates if candidate.resolved],
            errors=self.errors,
            pools=dict(sorted(self.pools.items())),
            defaults=defaults,
        )

    def _environment(self) -> str | None:
        """The environment name: DATASPHERE_GLUE_ENV when set, else the defaults' env; None if invalid."""
        override = os.environ.get(ENV_VARIABLE, "").strip()
        if not override:
            return (self.defaults or Defaults()).env
        if re.match(ENV_NAME_PATTERN, override):
            return override
        self.errors.append(
            RuleError(
                f"${ENV_VARIABLE}",
                0,
                None,
                None,
                f"'{override}' {PATTERN_MEANING[ENV_NAME_PATTERN]}; no rule loaded, since every Glue "
                "database name depends on it",
            )
        )
        return None

    def _drop_all(self) -> None:
        """Say how many otherwise valid rules the broken defaults keep out."""
        waiting = [candidate for candidate in self.candidates if candidate.rule is not None]
        where = self.defaults_declared
        if waiting and where is not None:
            message = f"{len(waiting)} rule(s) not loaded: the defaults have errors"
            self.errors.append(RuleError(where.file, where.line, None, None, message))

    def _reject_duplicate_names(self) -> None:
        by_name: dict[str, list[_Candidate]] = {}
        for candidate in self.candidates:
            if candidate.name is not None:
                by_name.setdefault(candidate.name, []).append(candidate)
        for name, same in by_name.items():
            if len(same) < 2:
                continue
            for candidate in same:
                others = ", ".join(f"{other.file}:{other.line}" for other in same if other is not candidate)
                self._reject(candidate, ("name",), f"duplicate rule name, also defined at {others}", name)

    def _resolve(self, candidate: _Candidate, defaults: Defaults, env: str) -> None:
        if candidate.rule is None:
            return
        try:
            candidate.resolved = resolve(
                candidate.rule, defaults, candidate.relative_file, candidate.line, env=env
            )
        except ValidationError as error:
            prefix: tuple[Any, ...] = (_SETTINGS_FIELD.get(error.title, error.title),)
            self.errors.extend(
                _errors_from(error, SyncRule, candidate.file, candidate.node, prefix, prefix, candidate.name)
            )

    def _check_pools(self, defaults: Defaults) -> None:
        declared = ", ".join(sorted(self.pools)) or "none"
        for candidate in self._alive():
            assert candidate.resolved is not None and candidate.rule is not None
            job = candidate.resolved.job
            pool = self.pools.get(job.pool)
            if pool is None:
                origin = (
                    ""
                    if candidate.rule.job.pool
                    else f" (inherited from {_pool_origin(candidate, defaults)})"
                )
                why = "is declared with errors" if job.pool in self.broken_pools else "is not declared"
                self._reject(
                    candidate,
                    ("job", "pool"),
                    f"pool '{job.pool}'{origin} {why} under pools: (declared: {declared})",
                    suggestion=nearest(job.pool, self.pools),
                )
            elif job.pool_slots > pool.slots:
                self._reject(
                    candidate,
                    ("job", "pool_slots"),
                    f"a job needs {job.pool_slots} slots but pool '{job.pool}' has only {pool.slots}; "
                    "it would never start",
                )

    def _check_dependencies(self) -> None:
        """Drop rules whose dependencies are unknown, broken, disabled or circular, until none remain."""
        known = [candidate.name for candidate in self.candidates if candidate.name is not None]
        changed = True
        while changed:
            changed = False
            enabled = {
                candidate.resolved.name: candidate.resolved.rule.enabled
                for candidate in self._alive()
                if candidate.resolved
            }
            for candidate in list(self._alive()):
                if self._reject_bad_dependency(candidate, enabled, known):
                    changed = True
            if not changed:
                changed = self._reject_cycles()

    def _reject_bad_dependency(
        self, candidate: _Candidate, enabled: dict[str, bool], known: list[str]
    ) -> bool:
        assert candidate.rule is not None
        for index, dependency in enumerate(candidate.rule.depends_on):
            suggestion = None
            if dependency == candidate.rule.name:
                problem = "a rule cannot depend on itself"
            elif dependency not in known:
                problem = f"depends on unknown rule '{dependency}'"
                suggestion = nearest(dependency, [name for name in known if name != candidate.rule.name])
            elif dependency not in enabled:
                problem = f"depends on rule '{dependency}', which has errors and was not loaded"
            elif not enabled[dependency]:
                problem = f"depends on rule '{dependency}', which is disabled and so never syncs"
            else:
                continue
            self._reject(candidate, ("depends_on", index), problem, suggestion=suggestion)
            return True
        return False

    def _reject_cycles(self) -> bool:
        alive = {c.resolved.name: c for c in self._alive() if c.resolved}
        cycle = _first_cycle({name: c.rule.depends_on for name, c in alive.items() if c.rule})
        if not cycle:
            return False
        path = " -> ".join([*cycle, cycle[0]])
        for position, name in enumerate(cycle):
            candidate = alive[name]
            assert candidate.rule is not None
            following = cycle[(position + 1) % len(cycle)]
            index = candidate.rule.depends_on.index(following)
            self._reject(candidate, ("depends_on", index), f"dependency cycle {path}")
        return True

    def _alive(self) -> Iterator[_Candidate]:
        return (candidate for candidate in self.candidates if candidate.resolved is not None)

    def _reject(
        self,
        candidate: _Candidate,
        location: tuple[Any, ...],
        message: str,
        name: str | None = None,
        *,
        suggestion: str | None = None,
    ) -> None:
        candidate.resolved = None
        candidate.rule = None
        self.errors.append(
            RuleError(
                candidate.file,
                _line_of(candidate.node, location),
                name or candidate.name,
                dotted(location),
                message,
                suggestion,
            )
        )


def _pool_origin(candidate: _Candidate, defaults: Defaults) -> str:
    assert candidate.rule is not None
    priority = candidate.rule.priority
    priority_defaults = defaults.priorities.get(priority)
    if priority_defaults is not None and priority_defaults.job.pool:
        return f"the {priority.value} defaults"
    return "the global defaults"


def _first_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """The first dependency cycle found walking rules in load order, as the rules along it, or None."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path: list[str] = []
        on_path: dict[str, int] = {}
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        path.append(start)
        on_path[start] = 0
        while stack:
            node, edges = stack[-1]
            target = next(edges, None)
            if target is None:
                stack.pop()
                path.pop()
                del on_path[node]
                done.add(node)
            elif target in on_path:
                return path[on_path[target] :]
            elif target in graph and target not in done:
                on_path[target] = len(path)
                path.append(target)
                stack.append((target, iter(graph[target])))
    return None


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TRUE_WORDS = frozenset({"yes", "true", "on", "y"})


class _DataBuilder:
    """Build Python data from composed nodes, as the safe loader would, in a fraction of its time.

    The DAG file loads every rule on each parse, and PyYAML's generic constructor dominates that cost.
    The common tags are built here directly; anything else (floats, timestamps, merge keys) goes to the
    loader's own constructor, so the result is the same.
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._loader = loader
        self.has_duplicate_keys = False

    def build(self, node: yaml.Node) -> Any:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag == _MAP_TAG and isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if tag == _SEQ_TAG and isinstance(node, yaml.SequenceNode):
            return [self.build(item) for item in node.value]
        if tag == _NULL_TAG:
            return None
        if tag == _BOOL_TAG:
            return node.value.lower() in _TRUE_WORDS
        if tag == _INT_TAG and node.value.isdigit() and (node.value == "0" or node.value[0] != "0"):
            return int(node.value)
        return self._loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode) -> Any:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR_TAG or key_node.value == "<<":
                return self._loader.construct_object(node, deep=True)  # merge keys, odd keys
            key = key_node.value
            if key in result:
                self.has_duplicate_keys = True
            result[key] = self.build(value_node)
        return result


def _syntax_error(file: str, error: yaml.MarkedYAMLError) -> RuleError:
    """A YAML syntax error at the parser's line and column, with where the broken construct began."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 0
    column = f", column {mark.column + 1}" if mark else ""
    message = f"YAML syntax error{column}: {error.problem or 'invalid YAML'}"
    if error.context:
        began = error.context_mark
        where = f" started at line {began.line + 1}, column {began.column + 1}" if began else ""
        message += f" ({error.context}{where})"
    return RuleError(file, line, None, None, message)


def _errors_from(
    error: ValidationError,
    model: type[BaseModel],
    file: str,
    node: yaml.Node,
    node_prefix: tuple[Any, ...],
    model_prefix: tuple[Any, ...],
    rule_name: str | None,
) -> list[RuleError]:
    """Turn pydantic's errors into RuleErrors with lines from the node tree and suggestions.

    ``node_prefix`` leads from ``node`` to what was validated (and names the field for the user);
    ``model_prefix`` leads from ``model`` to it.
    """
    found = []
    for detail in error.errors(include_url=False):
        ctx = detail.get("ctx") or {}
        location = tuple(detail["loc"])
        if "field" in ctx:
            location = (*location, ctx["field"])
        message, suggestion = describe_validation_error(detail, model, model_prefix + location)
        found.append(
            RuleError(
                file,
                _line_of(node, node_prefix + location),
                rule_name,
                dotted(node_prefix + location) or None,
                message,
                suggestion if suggestion is not None else ctx.get("suggestion"),
            )
        )
    return found


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
    return None


def _line_of(node: yaml.Node, location: tuple[Any, ...]) -> int:
    """1-based line of the deepest node a location reaches: the key's line for a mapping entry."""
    line = node.start_mark.line + 1
    for part in location:
        if isinstance(node, yaml.MappingNode) and part != "[key]":
            entry = next(((key, value) for key, value in node.value if str(key.value) == str(part)), None)
            if entry is None:
                break
            line = entry[0].start_mark.line + 1
            node = entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _rule_name_at(root: yaml.MappingNode, index: int) -> str | None:
    rules = _child(root, "rules")
    if isinstance(rules, yaml.SequenceNode) and index < len(rules.value):
        name = _child(rules.value[index], "name")
        if isinstance(name, yaml.ScalarNode):
            return str(name.value)
    return None


def _duplicate_keys(root: yaml.Node) -> Iterator[tuple[tuple[Any, ...], str, int, int]]:
    """Yield (path of the mapping, key, first line, repeated line) for each key given twice."""
    pending: list[tuple[tuple[Any, ...], yaml.Node]] = [((), root)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen and key != "<<":
                    yield path, key, seen[key], line
                seen.setdefault(key, line)
                pending.append(((*path, key), value_node))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(((*path, index), item) for index, item in enumerate(node.value))
