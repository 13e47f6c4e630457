"""Typed models of a rule file (see docs/rules.md for the format).

A rule set has a name, a description and rules; a rule has an id, Danish and English titles,
a description, its subject (person or family), its conditions, its exclusions and the
departments that receive its flags. Conditions are a tagged union on `kind`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from targetgroup.config import Code, FileCode, Name, PathText
from targetgroup.limits import MAX_CODE

PERIOD = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    """A length of time written like '8y', '6m', '17y6m' or '90d'."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: object) -> "Period":
        """'17y6m' -> Period(years=17, months=6); raises ValueError with the accepted forms."""
        match = PERIOD.match(str(text).strip()) if text is not None else None
        if not match or not any(match.groups()):
            raise ValueError(f"'{text}' is not a period; write e.g. 8y, 6m, 17y6m or 90d")
        y, m, d = (int(g or 0) for g in match.groups())
        return cls(years=y, months=m, days=d)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    @property
    def code(self) -> str:
        """Short form for reason codes: '8Y', '17Y6M', '90D'."""
        parts = [f"{self.years}Y" if self.years else "", f"{self.months}M" if self.months else "",
                 f"{self.days}D" if self.days else ""]
        return "".join(parts) or "0D"


def _period(value: object) -> Period:
    return value if isinstance(value, Period) else Period.parse(value)


class DepartmentsCondition(_Strict):
    """Active cases in at least N departments of a list (`at_least` + `of`), or in all of `all_of`."""

    kind: Literal["departments"]
    at_least: int | None = Field(default=None, ge=1)
    of: list[FileCode] | None = None
    all_of: list[FileCode] | None = None
    case_types: dict[FileCode, list[Code]] = {}

    @model_validator(mode="after")
    def _one_form(self) -> "DepartmentsCondition":
        if (self.at_least is None) == (self.all_of is None):
            raise ValueError("give either at_least (with an optional of) or all_of")
        if self.all_of is not None and self.of is not None:
            raise ValueError("of belongs with at_least, not with all_of")
        if self.at_least is not None and self.of is not None and self.at_least > len(self.of):
            raise ValueError(f"at_least {self.at_least} is more than the {len(self.of)} departments in of")
        return self


class CaseTypeCondition(_Strict):
    """An active case in `department` whose case type is one of `case_types`."""

    kind: Literal["case_type"]
    department: FileCode
    case_types: list[Code] = Field(min_length=1)


class StartedWithin(_Strict):
    """`started_within: {days: N}`: the spell started at most N days before D (D - N to D)."""

    days: int = Field(ge=0, le=3660)


class DurationCondition(_Strict):
    """The spell of cases in `department` (optionally of `case_types`) running on D has lasted
    more than `more_than` (or at least `at_least`), or started within the last
    `started_within.days` days (inflow: new to the department's cases of those types)."""

    kind: Literal["duration"]
    department: FileCode
    case_types: list[Code] = []
    more_than: Period | None = None
    at_least: Period | None = None
    started_within: StartedWithin | None = None

    _p = field_validator("more_than", "at_least", mode="before")(lambda v: None if v is None else _period(v))

    @model_validator(mode="after")
    def _one_bound(self) -> "DurationCondition":
        if [self.more_than, self.at_least, self.started_within].count(None) != 2:
            raise ValueError("give exactly one of more_than, at_least or started_within, "
                             "e.g. more_than: 8y or started_within: {days: 30}")
        return self

    @property
    def bound(self) -> tuple[str, Period]:
        """('gt' | 'ge' | 'within', the period) of the one bound given."""
        if self.started_within is not None:
            return "within", Period(days=self.started_within.days)
        return ("gt", self.more_than) if self.more_than is not None else ("ge", self.at_least)


class AgeCondition(_Strict):
    """Age on D in whole years between `min` and `max`, both inclusive (either may be left out)."""

    kind: Literal["age"]
    min: int | None = Field(default=None, ge=0, le=130)
    max: int | None = Field(default=None, ge=0, le=130)

    @model_validator(mode="after")
    def _range(self) -> "AgeCondition":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"impossible age range: min {self.min} is above max {self.max}")
        return self


class AgeTransitionCondition(_Strict):
    """The citizen reaches one of `ages` (periods such as 16y, 17y6m) within `within_days` from D."""

    kind: Literal["age_transition"]
    ages: list[Period] = Field(min_length=1)
    within_days: int = Field(ge=0, le=3660)

    _p = field_validator("ages", mode="before")(
        lambda v: [_period(x) for x in v] if isinstance(v, list) else v)


class AreaCondition(_Strict):
    """The citizen's area or address code (the person extract's `area` column) is one of `in`;
    compared trimmed and case-insensitively."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["area"]
    in_: list[Code] = Field(alias="in", min_length=1)


class PersistenceCondition(_Strict):
    """The rule's other conditions held on this run and on the `runs - 1` committed runs before."""

    kind: Literal["persistence"]
    runs: int = Field(ge=2, le=100)


Condition = Annotated[
    Union[DepartmentsCondition, CaseTypeCondition, DurationCondition, AgeCondition,
          AgeTransitionCondition, AreaCondition, PersistenceCondition],
    Field(discriminator="kind"),
]
CONDITION_KINDS = ("departments", "case_type", "duration", "age", "age_transition", "area", "persistence")


class Family(_Strict):
    """How a family rule forms families and which conditions children and parents must meet."""

    child: list[Condition] = Field(min_length=1)
    parent: list[Condition] = Field(min_length=1)
    household_adults: bool = False


class Exclusions(_Strict):
    """Who is taken out of (or left in) a rule's flags. Dead/moved-away citizens are always out."""

    protected: Literal["exclude", "include", "only"] = "include"
    consent_refused: Literal["exclude", "ignore"] = "exclude"
    manual: bool = True


class Rule(_Strict):
    """One target-group definition."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)
    title_da: Name
    title_en: Name
    description: str = ""
    subject: Literal["person", "family"] = "person"
    conditions: list[Condition] = []
    family: Family | None = None
    exclusions: Exclusions = Exclusions()
    notify: list[FileCode] | None = None
    review_after: Period | None = None
    # required: a citizen is flagged only with a given consent covering the departments behind
    # the flag; without it they are listed as "awaiting consent" (docs/consent.md)
    consent: Literal["required", "not_required"] = "not_required"

    _p = field_validator("review_after", mode="before")(lambda v: None if v is None else _period(v))

    @model_validator(mode="after")
    def _subject(self) -> "Rule":
        if self.subject == "family" and self.family is None:
            raise ValueError("a family rule needs a family block with child and parent conditions")
        if self.subject == "person" and self.family is not None:
            raise ValueError("family is only for subject: family")
        if self.subject == "person" and not self.conditions:
            raise ValueError("a person rule needs at least one condition")
        if self.subject == "family" and any(c.kind != "persistence" for c in self.conditions):
            raise ValueError("a family rule takes its conditions under family.child and family.parent; "
                             "its own conditions may only be persistence")
        if self.subject == "person" and all(c.kind == "persistence" for c in self.conditions):
            raise ValueError("persistence needs another condition to persist")
        return self

    def all_conditions(self) -> list[tuple[str, int, object]]:
        """(role, index, condition) for every condition: role subject, child or parent."""
        out = [("subject", i, c) for i, c in enumerate(self.conditions)]
        if self.family:
            out += [("child", i, c) for i, c in enumerate(self.family.child)]
            out += [("parent", i, c) for i, c in enumerate(self.family.parent)]
        return out


class RuleSet(_Strict):
    """A whole rule file."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)
    description: str = ""
    manual_exclusions: PathText | None = None
    manual_inclusions: PathText | None = None
    rules: list[Rule] = Field(min_length=1)
