"""The sync rules schema: what to sync, how urgently, how often, where to, and how to fail."""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from include.datasphere_glue.model import ObjectType

RULE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
RuleName = Annotated[str, StringConstraints(pattern=RULE_NAME_PATTERN)]

# Glue folds database names to lower case and Athena accepts only these characters in them.
ENV_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
POOL_NAME_PATTERN = r"^[A-Za-z0-9_.\-]{1,256}$"
TEMPLATE_PLACEHOLDERS = ("env", "space")


class Priority(StrEnum):
    """How urgently a rule's jobs run when they compete for the same pool."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    MAINTENANCE = "MAINTENANCE"


# Absolute priority weights of every task of a rule's DAG: the gaps leave room for levels in between.
PRIORITY_WEIGHTS: dict[Priority, int] = {
    Priority.CRITICAL: 1000,
    Priority.HIGH: 800,
    Priority.MEDIUM: 600,
    Priority.LOW: 400,
    Priority.MAINTENANCE: 200,
}


class Frequency(StrEnum):
    """Named schedules; a rule may also give a five-field cron expression instead."""

    REAL_TIME = "real_time"
    EVERY_15MIN = "every_15min"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MANUAL = "manual"


class DeletionMode(StrEnum):
    """What happens to owned Glue tables whose asset vanished from Datasphere."""

    OFF = "off"
    DELETE_VANISHED = "delete_vanished"


class DecimalPolicy(StrEnum):
    """Glue type for decimals that carry no precision (DecimalFloat, SMALLDECIMAL, bare Decimal)."""

    DOUBLE = "double"
    DECIMAL_38_10 = "decimal(38,10)"
    STRING = "string"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


_NAMED_FREQUENCY_ORDER = tuple(f.value for f in Frequency)
_NAMED_FREQUENCIES = frozenset(_NAMED_FREQUENCY_ORDER)
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
# Name and numeric bounds of the five cron fields, in order.
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def is_cron_expression(value: str) -> bool:
    """Tell a five-field cron expression apart from a named frequency.

    :param value: a rule's ``frequency``.
    """
    fields = value.split()
    return len(fields) == 5 and all(_CRON_FIELD.match(part) for part in fields)


def _looks_like_cron(value: str) -> bool:
    """Whether the author meant a cron expression, even a broken one."""
    return len(value.split()) > 1 or value[:1].isdigit() or value[:1] in "*?"


class Match(_Strict):
    """Which Datasphere assets a rule selects; every condition given must hold."""

    spaces: list[str] = Field(
        default_factory=list, description="Space technical names; empty selects every readable space."
    )
    object_types: list[ObjectType] = Field(
        default_factory=list,
        description="Repository object types (analyticmodels, views, localtables, remotetables, "
        "dataflows, ...); empty selects every type that becomes a table.",
    )
    include: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Shell-style patterns on the technical name; an asset must match at least one.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Shell-style patterns on the technical name that drop an asset."
    )
    business_name: list[str] = Field(
        default_factory=list,
        description="Shell-style patterns on the business name (label); empty places no condition.",
    )
    semantic_usage: list[str] = Field(
        default_factory=list,
        description="Semantic usages (modeling patterns) such as FACT, DIMENSION, TEXT, "
        "ANALYTICAL_DATASET, RELATIONAL_DATASET; empty places no condition.",
    )
    exposed_for_consumption_only: bool = Field(
        default=False,
        description="Select only assets the consumption catalog lists (they carry OData metadata).",
    )


class TargetOverrides(_Strict):
    """Where a rule writes in Glue; unset fields come from the defaults."""

    database_template: str | None = Field(
        default=None,
        description="Glue database name template; placeholders {env} and {space}, e.g. '{env}_{space}'.",
    )
    table_prefix: str | None = Field(default=None, description="Prefix put before every Glue table name.")
    region: str | None = Field(default=None, description="AWS region of the Glue Data Catalog.")
    catalog_id: str | None = Field(
        default=None, description="AWS account id owning the catalog; unset means the caller's account."
    )

    @field_validator("database_template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            check_database_template(value)
        return value


def check_database_template(template: str) -> None:
    """Reject a database template with unknown placeholders or broken braces.

    A template without ``{space}`` is allowed: it writes every space of the rule into one database.

    :param template: e.g. ``'{env}_{space}'``.
    :raises PydanticCustomError: naming the bad placeholder and the nearest known one.
    """
    try:
        placeholders = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise PydanticCustomError(
            "database_template", f"'{template}' is not a valid template: {error}"
        ) from None
    for name in placeholders:
        if name not in TEMPLATE_PLACEHOLDERS:
            raise PydanticCustomError(
                "database_template",
                f"unknown placeholder {{{name}}} in '{template}'; use {{env}} and {{space}}",
                {"suggestion": nearest(f"{{{name}}}", [f"{{{known}}}" for known in TEMPLATE_PLACEHOLDERS])},
            )


class Target(_Strict):
    """Where a rule writes, with every field resolved."""

    database_template: str = Field(description="Glue database name template with {env} and {space}.")
    table_prefix: str = Field(description="Prefix put before every Glue table name; may be empty.")
    region: str = Field(description="AWS region of the Glue Data Catalog.")
    catalog_id: str | None = Field(default=None, description="AWS account id owning the catalog, or None.")


class JobOverrides(_Strict):
    """How a rule's sync jobs run in Airflow; unset fields come from the priority or global defaults."""

    batch_size: int | None = Field(default=None, ge=1, le=1000, description="Assets per sync job.")
    pool: str | None = Field(default=None, description="Airflow pool that caps concurrency of the jobs.")
    pool_slots: int | None = Field(default=None, ge=1, description="Pool slots one job occupies.")
    retries: int | None = Field(default=None, ge=0, le=20, description="Retries after a failed attempt.")
    retry_delay_seconds: float | None = Field(
        default=None, gt=0, description="Delay before the first retry, in seconds."
    )
    backoff_multiplier: float | None = Field(
        default=None,
        ge=1,
        description="Each retry waits this many times longer than the previous one; 1 keeps it constant.",
    )
    max_retry_delay_seconds: float | None = Field(
        default=None, gt=0, description="Upper bound of any retry delay, in seconds."
    )
    execution_timeout_seconds: float | None = Field(
        default=None, gt=0, description="A job attempt running longer than this fails."
    )
    max_parallel_requests: int | None = Field(
        default=None, ge=1, le=64, description="Concurrent Datasphere and Glue calls inside one job."
    )


class JobSettings(_Strict):
    """How a rule's jobs run, with every field resolved; see JobOverrides for what each field means."""

    batch_size: int = Field(description="Assets per sync job.")
    pool: str = Field(description="Airflow pool of every task of the rule's DAG.")
    pool_slots: int = Field(description="Pool slots one task occupies.")
    retries: int = Field(description="Retries after a failed attempt.")
    retry_delay_seconds: float = Field(description="Delay before the first retry, in seconds.")
    backoff_multiplier: float = Field(description="Growth of the delay from one retry to the next.")
    max_retry_delay_seconds: float = Field(description="Upper bound of any retry delay, in seconds.")
    execution_timeout_seconds: float = Field(description="A job attempt running longer than this fails.")
    max_parallel_requests: int = Field(description="Concurrent Datasphere and Glue calls inside one job.")

    @model_validator(mode="after")
    def _cap_not_below_first_delay(self) -> JobSettings:
        if self.max_retry_delay_seconds < self.retry_delay_seconds:
            raise PydanticCustomError(
                "retry_delay_cap",
                f"max_retry_delay_seconds ({self.max_retry_delay_seconds:g}) is below "
                f"retry_delay_seconds ({self.retry_delay_seconds:g})",
                {"field": "max_retry_delay_seconds"},
            )
        return self


def retry_delays(job: JobSettings) -> list[float]:
    """The shortest delay before each retry, as Airflow 3.3 computes it from the job settings.

    Airflow waits ``retry_delay * multiplier ** (try - 1)`` rounded up, adds a deterministic jitter of
    up to the same amount again when the multiplier is not 1, and caps the result at the maximum delay.

    :param job: resolved job settings of a rule.
    :return: one delay in seconds per retry, in order.
    """
    delays: list[float] = []
    for try_number in range(1, job.retries + 1):
        if job.backoff_multiplier == 1:
            delay = job.retry_delay_seconds
        else:
            delay = max(1, math.ceil(job.retry_delay_seconds * job.backoff_multiplier ** (try_number - 1)))
        delays.append(float(min(delay, job.max_retry_delay_seconds)))
    return delays


class PoolSpec(_Strict):
    """An Airflow pool the rules use: it caps how many sync jobs call the APIs at once."""

    slots: int = Field(ge=1, le=1024, description="Jobs (pool slots) the pool admits at once.")
    description: str = Field(default="", description="What the pool is for, shown in the Airflow UI.")


class Deletion(_Strict):
    """Whether a sync removes owned Glue tables whose asset vanished, and the fail-safe around it."""

    mode: DeletionMode = Field(default=DeletionMode.OFF, description="off, or delete_vanished.")
    max_delete_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="A sync that would delete more than this share of the rule's owned tables deletes "
        "nothing and fails.",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _unquoted_off(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted `off` as False; the author meant the mode.
        return DeletionMode.OFF if value is False else value


class TypeMapping(_Strict):
    """How Datasphere column types become Glue types where the default table leaves a choice."""

    decimal_without_precision: DecimalPolicy | None = Field(
        default=None, description="Glue type for decimals without precision: double, decimal(38,10), string."
    )
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Source type (e.g. 'cds.UUID', 'Edm.Guid') to Glue type, replacing the default mapping.",
    )


# What a rule gets for any job or target field that no defaults file, priority or rule sets.
BUILTIN_JOB = JobOverrides(
    batch_size=50,
    pool="datasphere_sync",
    pool_slots=1,
    retries=3,
    retry_delay_seconds=60,
    backoff_multiplier=2.0,
    max_retry_delay_seconds=1800,
    execution_timeout_seconds=3600,
    max_parallel_requests=8,
)
BUILTIN_TARGET = TargetOverrides(database_template="{env}_{space}", table_prefix="", region="eu-central-1")


class PriorityDefaults(_Strict):
    """Defaults that apply to every rule of one priority."""

    job: JobOverrides = Field(default_factory=JobOverrides, description="Job settings for this priority.")


class Defaults(_Strict):
    """Settings every rule inherits; a priority's defaults override these and a rule overrides both."""

    env: str = Field(
        default="dev",
        pattern=ENV_NAME_PATTERN,
        description="Environment name, put into Glue database names as {env}; the environment variable "
        "DATASPHERE_GLUE_ENV overrides it when set.",
    )
    target: TargetOverrides = Field(
        default_factory=lambda: BUILTIN_TARGET,
        description="Where rules write unless they say otherwise; fields left out keep the built-in "
        "values ({env}_{space}, no prefix, eu-central-1).",
    )
    job: JobOverrides = Field(
        default_factory=lambda: BUILTIN_JOB,
        description="Job settings every rule starts from; fields left out keep the built-in values "
        "(BUILTIN_JOB).",
    )
    priorities: dict[Priority, PriorityDefaults] = Field(
        default_factory=dict, description="Per-priority job defaults, keyed by priority name."
    )
    type_mapping: TypeMapping = Field(
        default_factory=lambda: TypeMapping(decimal_without_precision=DecimalPolicy.DOUBLE),
        description="Type mapping choices every rule starts from.",
    )


class SyncRule(_Strict):
    """One rule: a set of Datasphere assets kept in step with Glue on one schedule."""

    name: RuleName = Field(description="Unique rule name; lower case, digits and underscores.")
    description: str = Field(min_length=1, description="What the rule keeps in sync and why.")
    owner: str = Field(min_length=1, description="Team or person answering for the rule.")
    enabled: bool = Field(default=True, description="Disabled rules compile to no DAG.")
    priority: Priority = Field(description="CRITICAL, HIGH, MEDIUM, LOW or MAINTENANCE.")
    frequency: str = Field(
        description="real_time, every_15min, hourly, daily, weekly, manual, or a five-field cron expression."
    )
    match: Match = Field(default_factory=Match, description="Which assets the rule selects.")
    target: TargetOverrides = Field(default_factory=TargetOverrides, description="Where the rule writes.")
    job: JobOverrides = Field(default_factory=JobOverrides, description="How the rule's sync jobs run.")
    depends_on: list[RuleName] = Field(
        default_factory=list, description="Rules whose successful sync this rule waits for."
    )
    deletion: Deletion = Field(default_factory=Deletion, description="Clean-up of vanished assets.")
    type_mapping: TypeMapping = Field(
        default_factory=TypeMapping, description="Type mapping choices for this rule."
    )
    tags: list[str] = Field(default_factory=list, description="Extra tags shown on the rule's DAG.")

    @field_validator("frequency")
    @classmethod
    def _frequency_is_known(cls, value: str) -> str:
        if value in _NAMED_FREQUENCIES:
            return value
        if _looks_like_cron(value):
            problem = _cron_problem(value)
            if problem:
                raise PydanticCustomError("frequency", problem)
            return value
        raise PydanticCustomError(
            "frequency",
            f"'{value}' is neither a named frequency ({', '.join(_NAMED_FREQUENCY_ORDER)}) "
            "nor a five-field cron expression",
            {"suggestion": nearest(value, _NAMED_FREQUENCY_ORDER)},
        )

    @property
    def named_frequency(self) -> Frequency | None:
        """The named frequency, or None when the rule gives a cron expression."""
        try:
            return Frequency(self.frequency)
        except ValueError:
            return None


@lru_cache(maxsize=256)
def _cron_problem(expression: str) -> str | None:
    """Say what is wrong with a cron expression, or None when Airflow can schedule it."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"cron expression '{expression}' has {len(fields)} fields; it needs five: "
            "minute hour day-of-month month day-of-week"
        )
    for text, (field_name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        for number in re.findall(r"(?<![/#\d])\d+", text):
            if not low <= int(number) <= high:
                return f"cron expression '{expression}': {field_name} {number} is out of range {low}-{high}"
    # Airflow schedules cron through croniter; what it rejects must fail here, not at parse time.
    from croniter import croniter

    if not croniter.is_valid(expression):
        return f"'{expression}' is not a valid cron expression"
    return None


def nearest(value: str, choices: Iterable[object]) -> str | None:
    """The choice closest to a misspelt value, ignoring case, or None when nothing is close.

    :param value: what the author wrote.
    :param choices: the valid keys or values.
    """
    by_folded = {str(choice).casefold(): str(choice) for choice in choices}
    close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


class RulesFile(_Strict):
    """One YAML file of rules, optionally with defaults and pools (only one file may carry them)."""

    defaults: Defaults | None = Field(default=None, description="Settings every rule inherits.")
    pools: dict[Annotated[str, StringConstraints(pattern=POOL_NAME_PATTERN)], PoolSpec] = Field(
        default_factory=dict,
        description="Airflow pools the rules may name, by pool name; airflow_settings.yaml creates them.",
    )
    rules: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The rules; each is validated on its own so one bad rule never hides the others.",
    )


class ResolvedRule(_Strict):
    """A rule with its defaults applied: what the compiler and the engine work from."""

    rule: SyncRule = Field(description="The rule as written.")
    env: str = Field(description="Environment name for {env} in database templates.")
    target: Target = Field(description="Where the rule writes.")
    job: JobSettings = Field(description="How the rule's jobs run.")
    decimal_without_precision: DecimalPolicy = Field(description="Glue type for decimals without precision.")
    type_overrides: dict[str, str] = Field(description="Source type to Glue type, over the default mapping.")
    source_file: str = Field(description="Rules file the rule came from, relative to the rules folder.")
    source_line: int = Field(description="Line of the rule in that file.")

    @property
    def name(self) -> str:
        """The rule's unique name."""
        return self.rule.name

    @property
    def priority_weight(self) -> int:
        """Absolute Airflow priority weight of the rule's tasks."""
        return PRIORITY_WEIGHTS[self.rule.priority]


def resolve(
    rule: SyncRule, defaults: Defaults, source_file: str, source_line: int, *, env: str | None = None
) -> ResolvedRule:
    """Apply the built-in values, then global, then per-priority defaults under a rule's own settings.

    :param rule: the validated rule.
    :param defaults: global and per-priority defaults.
    :param source_file: rules file of the rule, relative to the rules folder.
    :param source_line: line of the rule in that file.
    :param env: environment name overriding ``defaults.env`` (the loader passes DATASPHERE_GLUE_ENV).
    :raises pydantic.ValidationError: when the layered job settings or target are inconsistent.
    """
    priority_job = defaults.priorities.get(rule.priority, PriorityDefaults()).job
    job = _layer(BUILTIN_JOB, defaults.job, priority_job, rule.job)
    target = _layer(BUILTIN_TARGET, defaults.target, rule.target)
    type_overrides = {**defaults.type_mapping.overrides, **rule.type_mapping.overrides}
    return ResolvedRule(
        rule=rule,
        env=env or defaults.env,
        target=Target.model_validate(target),
        job=JobSettings.model_validate(job),
        decimal_without_precision=(
            rule.type_mapping.decimal_without_precision
            or defaults.type_mapping.decimal_without_precision
            or DecimalPolicy.DOUBLE
        ),
        type_overrides=type_overrides,
        source_file=source_file,
        source_line=source_line,
    )


def _layer(*layers: BaseModel) -> dict[str, Any]:
    """Merge override models; a later layer's set fields win over an earlier one's."""
    merged: dict[str, Any] = {}
    for layer in layers:
        # Shallow on purpose: override models hold only scalars, so no dump is needed.
        merged.update({k: v for k, v in layer.__dict__.items() if v is not None})
    return merged


SYNCABLE_TYPES: tuple[ObjectType, ...] = tuple(t for t in ObjectType if not t.is_flow)
