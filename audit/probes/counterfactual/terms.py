"""Identity-term lists for counterfactual swaps and attribution reliance: the shipped lists plus a user YAML file.

A *family* (gender, names_ethnicity, descriptors_religion, ...) maps group names to index-aligned term lists:
position i of every group is one swap set (he/she, Adam/Alonzo/Hao/Eduardo). Families with one group are
attribution-only sensitive terms. User files use the shipped format (see audit/data/terms/*.yaml):

    families:
    - name: my_terms
      case_sensitive: false
      groups: {group_a: [term1, term2], group_b: [term3, term4]}
    - name: my_pool_axis             # pooled: every identity term can become every other pool term
      axis: caste
      pool: true
      groups: {dalit: {adj: [Dalit], plural: [Dalits]}, brahmin: {adj: [Brahmin], plural: [Brahmins]}}
    templates:
      descriptor: ["The {term} customer asked for a refund."]
    stop_phrases: [Muslim Brotherhood]     # hits inside these phrases are never swapped (case-insensitive)

Pool families list each group by grammatical form (FORMS): a swap keeps the form ("Muslims" -> "Jews").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audit.core.errors import BadInputError

__all__ = ["TermFamily", "TermLists", "load_terms", "SHIPPED_FILES", "FAMILY_KINDS", "FORMS"]

SHIPPED_FILES = ("gender.yaml", "names.yaml", "descriptors.yaml", "govaudit.yaml")
FORMS = ("adj", "noun", "plural", "concept")  # adjective, one person, people, the religion/orientation itself
FAMILY_KINDS = ("gender", "names", "descriptors")  # config selectors that also match `<kind>_*` family names


class _FamilySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    source: str = "user list"
    license: str = ""
    case_sensitive: bool = False
    template_slot: str | None = None
    axis: str | None = Field(None, description="Identity axis (religion, ...); required with pool.")
    pool: bool = Field(False, description="Member of the identity pool: swapped with every other pool term.")
    ambiguous: list[str] = Field(default_factory=list,
                                 description="Terms that count only capitalised or before a person noun ('black').")
    groups: dict[str, list[str] | dict[str, list[str]]] = Field(min_length=1)
    template_terms: dict[str, list[str]] | None = None

    @model_validator(mode="after")
    def _aligned(self) -> "_FamilySpec":
        formed = [isinstance(terms, dict) for terms in self.groups.values()]
        if any(formed):
            if not all(formed):
                raise ValueError(f"family {self.name}: list every group by form ({'/'.join(FORMS)}) or none")
            for group, by_form in self.groups.items():
                bad = sorted(set(by_form) - set(FORMS))
                if bad or not by_form.get("adj"):
                    raise ValueError(f"family {self.name}, group {group}: forms are {list(FORMS)} and adj is "
                                     f"required (got {sorted(by_form)})")
            if any(not t.strip() for by_form in self.groups.values() for terms in by_form.values() for t in terms):
                raise ValueError(f"family {self.name}: empty term")
            if self.pool and not self.axis:
                raise ValueError(f"family {self.name}: a pool family needs an axis")
            return self
        if self.pool:
            raise ValueError(f"family {self.name}: a pool family lists its groups by form ({'/'.join(FORMS)})")
        lengths = {len(terms) for terms in self.groups.values()}
        if 0 in lengths:
            raise ValueError(f"family {self.name}: every group needs at least one term")
        if len(self.groups) > 1 and len(lengths) > 1:
            raise ValueError(f"family {self.name}: groups must list the same number of terms (position i of every "
                             f"group is one swap set), got {sorted(lengths)}")
        if any(not t.strip() for terms in self.groups.values() for t in terms):
            raise ValueError(f"family {self.name}: empty term")
        if self.template_terms is not None and set(self.template_terms) != set(self.groups):
            raise ValueError(f"family {self.name}: template_terms must name the same groups as groups")
        return self


class _FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    families: list[_FamilySpec] = Field(default_factory=list)
    templates: dict[str, list[str]] = Field(default_factory=dict)
    stop_phrases: list[str] = Field(default_factory=list)
    stop_names: list[str] = Field(default_factory=list)
    person_nouns: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _slot_in_templates(self) -> "_FileSpec":
        for slot, items in self.templates.items():
            bad = [t for t in items if t.count("{term}") != 1]
            if bad:
                raise ValueError(f"templates.{slot}: each template needs exactly one {{term}} slot")
        return self


@dataclass(frozen=True)
class TermFamily:
    name: str
    groups: dict[str, tuple[str, ...]]
    description: str = ""
    source: str = ""
    license: str = ""
    case_sensitive: bool = False
    template_slot: str | None = None
    template_terms: dict[str, tuple[str, ...]] | None = None
    forms: dict[str, tuple[str, ...]] | None = None  # group -> form of each term (parallel to groups), pool families
    axis: str | None = None
    pool: bool = False
    ambiguous: frozenset[str] = frozenset()
    axes: dict[str, str] | None = None  # group -> axis, for the merged identity pool

    @property
    def swappable(self) -> bool:
        return len(self.groups) >= 2

    def terms(self) -> list[str]:
        return [t for terms in self.groups.values() for t in terms]

    def slot_terms(self) -> dict[str, tuple[str, ...]]:
        """Aligned terms used to fill templates: `template_terms`, else the first adjective (form families) or the
        first four terms of every group."""
        if self.template_terms:
            return self.template_terms
        if self.forms:
            return {g: (terms[self.forms[g].index("adj")],) for g, terms in self.groups.items()}
        return {g: terms[:4] for g, terms in self.groups.items()}

    def axis_of(self, group: str) -> str:
        return (self.axes or {}).get(group) or self.axis or self.name


@dataclass(frozen=True)
class TermLists:
    families: tuple[TermFamily, ...]
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_families: tuple[str, ...] = ()
    stop_phrases: tuple[str, ...] = ()
    stop_names: tuple[str, ...] = ()
    person_nouns: tuple[str, ...] = ()

    def get(self, name: str) -> TermFamily:
        for family in self.families:
            if family.name == name:
                return family
        raise KeyError(name)

    def select(self, selectors: list[str]) -> list[TermFamily]:
        """Families named by `selectors` (exact names or kinds such as 'names' -> names_*), plus all user families."""
        chosen: list[TermFamily] = []
        for selector in selectors:
            hits = [f for f in self.families if f.name == selector or f.name.startswith(f"{selector}_")]
            if not hits:
                raise BadInputError(f"unknown counterfactual family {selector!r}", where="counterfactual.families",
                                    fix=f"use one of {sorted({*FAMILY_KINDS, *(f.name for f in self.families)})}")
            chosen.extend(f for f in hits if f not in chosen)
        chosen.extend(f for f in self.families if f.name in self.user_families and f not in chosen)
        return chosen


def _parse(text: str, where: str) -> _FileSpec:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise BadInputError(f"invalid YAML: {getattr(err, 'problem', err)}",
                            where=f"{where}:{mark.line + 1}" if mark else where) from None
    if not isinstance(data, dict):
        raise BadInputError("term file must be a mapping with `families:` and/or `templates:`", where=where)
    try:
        return _FileSpec.model_validate(data)
    except ValidationError as err:
        msgs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise BadInputError(msgs, where=where, fix="see docs/probes.md (user term lists)") from None


def _family(spec: _FamilySpec) -> TermFamily:
    strip = lambda groups: {g: tuple(t.strip() for t in terms) for g, terms in groups.items()}  # noqa: E731
    forms = None
    groups = spec.groups
    if any(isinstance(terms, dict) for terms in groups.values()):
        forms = {g: tuple(f for f in FORMS for _ in by_form.get(f, ())) for g, by_form in groups.items()}
        groups = {g: [t for f in FORMS for t in by_form.get(f, ())] for g, by_form in groups.items()}
    return TermFamily(name=spec.name, groups=strip(groups), description=spec.description, source=spec.source,
                      license=spec.license, case_sensitive=spec.case_sensitive, template_slot=spec.template_slot,
                      template_terms=strip(spec.template_terms) if spec.template_terms else None, forms=forms,
                      axis=spec.axis, pool=spec.pool, ambiguous=frozenset(t.lower() for t in spec.ambiguous))


def load_terms(extra_file: str | Path | None = None) -> TermLists:
    """Shipped lists plus an optional user YAML file; a user family replaces a shipped one of the same name."""
    base = resources.files("audit") / "data" / "terms"
    specs = [_parse((base / name).read_text(encoding="utf-8"), f"audit/data/terms/{name}") for name in SHIPPED_FILES]
    user: _FileSpec | None = None
    if extra_file is not None:
        path = Path(extra_file)
        if not path.is_file():
            raise BadInputError(f"term file not found: {path}", where="counterfactual.terms_file")
        user = _parse(path.read_text(encoding="utf-8"), str(path))
        specs.append(user)
    families: dict[str, TermFamily] = {}
    templates: dict[str, list[str]] = {}
    extra: dict[str, list[str]] = {"stop_phrases": [], "stop_names": [], "person_nouns": []}
    for spec in specs:
        for fam in spec.families:
            families[fam.name] = _family(fam)
        for slot, items in spec.templates.items():
            templates.setdefault(slot, []).extend(items)
        for key, items in extra.items():
            items.extend(getattr(spec, key))
    user_names = tuple(f.name for f in user.families) if user else ()
    return TermLists(families=tuple(families.values()),
                     templates={slot: tuple(dict.fromkeys(items)) for slot, items in templates.items()},
                     user_families=user_names, **{k: tuple(dict.fromkeys(v)) for k, v in extra.items()})
