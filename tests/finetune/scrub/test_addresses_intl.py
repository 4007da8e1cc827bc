"""Street addresses in other writing (recognizers/addresses.yaml, issue #18 round 4): the postal standard's street types,
names in any script, named streets without a number, the lines of a multi-line address. Patterns mode (no spaCy).
"""
from __future__ import annotations

import pytest


def found(patterns_scrubber, text):
    [spans] = patterns_scrubber.spans([text])
    return [(kind, text[a:b]) for kind, a, b in spans]


@pytest.mark.parametrize("text, entity, value", [
    # house number + name + a street type of the USPS list beyond the common ones
    ("The shop is at 4471 Kowalczyk Causeway", "STREET_ADDRESS", "4471 Kowalczyk Causeway"),
    ("mail it to 088 Jansen Turnpike, Rotterdam", "STREET_ADDRESS", "088 Jansen Turnpike"),
    ("send to 9 Dubois Isle, Suite 12 today", "STREET_ADDRESS", "9 Dubois Isle, Suite 12"),
    ("we meet at 51 Wellington Parade tonight", "STREET_ADDRESS", "51 Wellington Parade"),
    # capitals outside ASCII, and a script without case
    ("deliver to 312 Özdemir Crossroad now", "STREET_ADDRESS", "312 Özdemir Crossroad"),
    ("deliver to 77 Šťastný Ferry now", "STREET_ADDRESS", "77 Šťastný Ferry"),
    ("deliver to 12 לוי Junction now", "STREET_ADDRESS", "12 לוי Junction"),
    # a unit line after an escaped newline and a few non-word characters
    ("Marsh End\\n** Suite 220\\n** Leeds", "STREET_ADDRESS", "Suite 220"),
    # a named street without house number
    ("She lives on Varga Meadows now.", "STREET_ADDRESS", "Varga Meadows"),
    ("Trucks must enter on Nowak Overpass St. at night", "STREET_ADDRESS", "Nowak Overpass St."),
    ("the film is set in Kovacs Harbor street in Pest", "STREET_ADDRESS", "Kovacs Harbor street"),
    ("at the corner of Moreau Crescent and Lemaire Heights", "STREET_ADDRESS",
     "Moreau Crescent and Lemaire Heights"),
    # the last line of a multi-line address: place name(s) + postcode, or postcode + town
    ("Suite 4\\n Smithton\\n Trinidad and Tobago 40419", "STREET_ADDRESS", "40419"),
    ("Apt. 9\\n Westland\\n** Papua New Guinea 4041\\nPhone", "STREET_ADDRESS", "4041"),
    ("Hauptweg 5\n 80331 München\n", "STREET_ADDRESS", "80331"),
    ("Kerkstraat 1\\n 2514 JH Den Haag\\n", "STREET_ADDRESS", "2514 JH"),
])
def test_addresses_are_found(patterns_scrubber, text, entity, value):
    assert (entity, value) in found(patterns_scrubber, text)


@pytest.mark.parametrize("text", [
    "I called on March 15 and paid 2,500 Dollars",
    "Section 4471 Kowalczyk Causeway Act",  # a section number, not a house number
    "Case 4471 Ferry was closed",  # a case number
    "my loan with Navy Federal Credit Union was denied",
    "I took a loan on Lending Club and Wells Fargo",
    "the branch on Main St was closed 2 Days",
    "Summary\n2019 Annual Report\n",  # a year on its own line
    "Dear CFPB,\nXXXX XXXX\nXX/XX/2019",
    "I paid $400 Green Dot card 3 Times",
])
def test_cfpb_like_text_has_no_address(patterns_scrubber, text):
    assert [(k, v) for k, v in found(patterns_scrubber, text) if k in ("STREET_ADDRESS", "ZIP_CODE")] == []


def test_address_recognizers_are_loaded_and_recorded(patterns_scrubber):
    assert {"govaudit_struct_address_intl", "govaudit_struct_postcode_line"} <= set(patterns_scrubber.spec.custom_recognizers)


def test_shipped_yaml_is_the_build_script_output():
    import runpy

    from finetune.scrub import _engine

    directory = _engine.BUILTIN_RECOGNIZERS_DIR
    built = runpy.run_path(str(directory / "build_addresses.py"))["build"]()
    assert (directory / "addresses.yaml").read_text(encoding="utf-8") == built
