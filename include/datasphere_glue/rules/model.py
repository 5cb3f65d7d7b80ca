"""The sync rules schema: what to sync, how urgently, how often, where to, and how to fail."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from include.datasphere_glue.model import ObjectType

RULE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
RuleName = Annotated[str, StringConstraints(pattern=RULE_NAME_PATTERN)]


class Priority(StrEnum):
    """How urgently a rule's jobs run when they compete for the same pool."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    MAINTENANCE = "MAINTENANCE"


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


_NAMED_FREQUENCIES = frozenset(f.value for f in Frequency)
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")


def is_cron_expression(value: str) -> bool:
    """Tell a five-field cron expression apart from a named frequency."""
    fields = value.split()
    return len(fields) == 5 and all(_CRON_FIELD.match(part) for part in fields)


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
        if value is None:
            return value
        unknown = set(re.findall(r"{([^}]*)}", value)) - {"env", "space"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{env}} and {{space}}")
        return value


class Target(_Strict):
    """Where a rule writes, with every field resolved."""

    database_template: str
    table_prefix: str
    region: str
    catalog_id: str | None = None


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
    """How a rule's jobs run, with every field resolved."""

    batch_size: int
    pool: str
    pool_slots: int
    retries: int
    retry_delay_seconds: float
    backoff_multiplier: float
    max_retry_delay_seconds: float
    execution_timeout_seconds: float
    max_parallel_requests: int

    @model_validator(mode="after")
    def _cap_not_below_first_delay(self) -> JobSettings:
        if self.max_retry_delay_seconds < self.retry_delay_seconds:
            raise ValueError(
                f"max_retry_delay_seconds ({self.max_retry_delay_seconds}) is below "
                f"retry_delay_seconds ({self.retry_delay_seconds})"
            )
        return self


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


class TypeMapping(_Strict):
    """How Datasphere column types become Glue types where the default table leaves a choice."""

    decimal_without_precision: DecimalPolicy | None = Field(
        default=None, description="Glue type for decimals without precision: double, decimal(38,10), string."
    )
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Source type (e.g. 'cds.UUID', 'Edm.Guid') to Glue type, replacing the default mapping.",
    )


class PriorityDefaults(_Strict):
    """Defaults that apply to every rule of one priority."""

    job: JobOverrides = Field(default_factory=JobOverrides, description="Job settings for this priority.")


class Defaults(_Strict):
    """Settings every rule inherits; a priority's defaults override these and a rule overrides both."""

    env: str = Field(default="dev", description="Environment name, put into Glue database names as {env}.")
    target: TargetOverrides = Field(
        default_factory=lambda: TargetOverrides(
            database_template="{env}_{space}", table_prefix="", region="eu-central-1"
        ),
        description="Where rules write unless they say otherwise.",
    )
    job: JobOverrides = Field(
        default_factory=lambda: JobOverrides(
            batch_size=50,
            pool="datasphere_sync",
            pool_slots=1,
            retries=3,
            retry_delay_seconds=60,
            backoff_multiplier=2.0,
            max_retry_delay_seconds=1800,
            execution_timeout_seconds=3600,
            max_parallel_requests=8,
        ),
        description="Job settings every rule starts from.",
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
        if is_cron_expression(value):
            _check_cron(value)
            return value
        raise ValueError(
            f"'{value}' is neither one of {[f.value for f in Frequency]} nor a five-field cron expression"
        )

    @property
    def named_frequency(self) -> Frequency | None:
        """The named frequency, or None when the rule gives a cron expression."""
        try:
            return Frequency(self.frequency)
        except ValueError:
            return None


def _check_cron(expression: str) -> None:
    """Reject a cron expression that parses into five fields but cannot fire."""
    from croniter import croniter  # light, and only needed when a rule uses cron

    if not croniter.is_valid(expression):
        raise ValueError(f"'{expression}' is not a valid cron expression")


class RulesFile(_Strict):
    """One YAML file of rules, optionally with defaults (only one file may carry defaults)."""

    defaults: Defaults | None = Field(default=None, description="Settings every rule inherits.")
    rules: list[dict[str, Any]] = Field(
        default_factory=list, description="The rules; each is validated on its own so one bad rule "
        "never hides the others."
    )


class ResolvedRule(_Strict):
    """A rule with its defaults applied: what the compiler and the engine work from."""

    rule: SyncRule
    env: str
    target: Target
    job: JobSettings
    decimal_without_precision: DecimalPolicy
    type_overrides: dict[str, str]
    source_file: str = Field(description="Rules file the rule came from, relative to the rules folder.")
    source_line: int = Field(description="Line of the rule in that file.")

    @property
    def name(self) -> str:
        return self.rule.name


def resolve(rule: SyncRule, defaults: Defaults, source_file: str, source_line: int) -> ResolvedRule:
    """Apply global, then per-priority defaults under a rule's own settings."""
    priority_job = defaults.priorities.get(rule.priority, PriorityDefaults()).job
    job = _layer(defaults.job, priority_job, rule.job)
    target = _layer(defaults.target, rule.target)
    type_overrides = {**defaults.type_mapping.overrides, **rule.type_mapping.overrides}
    return ResolvedRule(
        rule=rule,
        env=defaults.env,
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
        merged.update({k: v for k, v in layer.model_dump().items() if v is not None})
    return merged


SYNCABLE_TYPES: tuple[ObjectType, ...] = tuple(t for t in ObjectType if not t.is_flow)
