"""Writes finetune/scrub/recognizers/addresses.yaml from named parts (street-type lists, guards), so the long regexes
are edited here, not in the YAML: `python finetune/scrub/recognizers/build_addresses.py > finetune/scrub/recognizers/addresses.yaml`.

Each regex is compiled with Presidio's flags before it is written; tests/finetune/scrub/test_addresses_intl.py checks that
the shipped YAML is this script's output.
"""
import regex

HEADER = """# govaudit's street-address recognizers for writing the first address patterns (structured.yaml) miss (issue #18,
# round 4): the full set of street types of the US postal standard (USPS Publication 28, appendix C1: Ferry, Isle,
# Causeway, Turnpike, ...) plus the Commonwealth ones (Parade, Esplanade, Quay, ...), street names in any script
# (Çamurcuoğlu Place), a named street without house number after "on" or before the word "street", the corner of two
# streets, and the lines of a multi-line address (a unit line, a "Country/City + postcode" or "postcode + City" last
# line) after a line break that may be a literal \\n and a few non-word characters. General writing rules, no place
# names. Tuned on presidio-evaluator sentences from the even templates with other locales than the held-out sets
# (docs/scrub.md). Regexes run with Presidio's flags (IGNORECASE, MULTILINE, DOTALL); (?-i:...) keeps capitals
# case-sensitive; every pattern starts with a look-ahead on its first character so the engine skips other positions."""
W = r"(?:\p{Lu}|\p{Lo})[\p{L}\p{M}'’.-]*"      # a capitalised word, or a word of a script without case
W2 = r"(?:\p{Lu}|\p{Lo})[\p{L}\p{M}'’-]*"       # the same without dots (no abbreviation)
USPS = ("Alley|Annex|Arcade|Avenue|Bayou|Beach|Bend|Bluffs?|Bottom|Boulevard|Branch|Bridge|Brooks?|Burgs?|Bypass|Camp|"
        "Canyon|Cape|Causeway|Centers?|Centre|Circles?|Circuit|Cliffs?|Close|Club|Commons?|Concourse|Corners?|Course|"
        "Courts?|Coves?|Creek|Crescent|Crest|Crossing|Crossroads?|Curve|Dale|Dam|Divide|Drives?|Esplanade|Estates?|"
        "Expressway|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|Forks?|Fort|Freeway|Gardens?|Gateway|"
        "Glens?|Greens?|Groves?|Harbou?rs?|Haven|Heath|Heights|Highway|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|"
        "Keys?|Knolls?|Lakes?|Landing|Lane|Lights?|Loaf|Locks?|Lodge|Loop|Manors?|Meadows?|Mews|Mills?|Mission|Motorway|"
        "Mount|Mountains?|Neck|Orchard|Oval|Overpass|Parade|Parks?|Parkways?|Pass|Passage|Path|Pike|Pines?|Place|"
        "Plains?|Plaza|Points?|Ports?|Prairie|Promenade|Quay|Radial|Ramp|Ranch|Rapids?|Ridges?|Rise|River|Roads?|Route|"
        "Row|Rue|Run|Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares?|Station|Stravenue|Stream|Streets?|Summit|Terrace|"
        "Throughway|Trace|Track|Trafficway|Trail|Tunnel|Turnpike|Underpass|Unions?|Vale|Valleys?|Via|Viaduct|Views?|"
        "Villas?|Villages?|Ville|Vista|Walks?|Wall|Ways?|Wells?|Wharf")
ABBR = "Ave|St|Rd|Blvd|Dr|Ln|Ct|Pl|Sq|Ter|Hwy|Pkwy|Cres|Pde|Esp"
# street types that are seldom the last word of a company or product name: enough on their own after "on" / "side of"
SAFE = ("Alley|Avenue|Bayou|Bend|Bluffs?|Boulevard|Branch|Bridge|Brooks?|Bypass|Canyon|Causeway|Circles?|Circuit|Cliffs?|"
        "Close|Corners?|Course|Courts?|Coves?|Creek|Crescent|Crest|Crossing|Crossroads?|Dale|Divide|Drives?|Esplanade|"
        "Expressway|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forges?|Forks?|Freeway|Gardens?|Glens?|Greens?|Groves?|"
        "Harbou?rs?|Haven|Heights|Highway|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Knolls?|Lakes?|Lane|Locks?|Lodge|"
        "Loop|Manors?|Meadows?|Mews|Mills?|Motorway|Mountains?|Orchard|Oval|Overpass|Parade|Parkways?|Passage|Pike|"
        "Pines?|Place|Plains?|Plaza|Prairie|Promenade|Quay|Radial|Ranch|Rapids?|Ridges?|Roads?|Route|Row|Shoals?|Shores?|"
        "Skyway|Springs?|Spurs?|Squares?|Stravenue|Stream|Streets?|Terrace|Throughway|Trace|Trafficway|Trail|Tunnel|"
        "Turnpike|Underpass|Valleys?|Via|Viaduct|Views?|Villas?|Villages?|Ville|Vista|Walks?|Wall|Ways?|Wells?|Wharf")
BREAK = r"(?:^|\n|\\n)[^\w\n\\]{0,4}"           # a line start: a real or literal \n, then up to 4 non-word chars
UNIT = r"(?:(?:[,\n]|\\n)?[^\w\n\\]{0,4}(?:apt|apartment|suite|ste|unit|flat|floor|fl|#)\.?\s*#?\d{1,6}){0,2}"
NOT_CITED = (r"(?<!\b(?:chapter|section|sec|form|page|part|article|title|item|step|line|no|number|rule|regulation|act|"
             r"account|case|claim|ref|reference|id)\.?\s)")
STREET_WORD = r"(?:street|st\b\.?|road|avenue)"
PATTERNS = {
 "govaudit_struct_address_intl": ("STREET_ADDRESS", [
  ("house number, 1-4 capitalised words (any script) and a postal street type, optional unit (02219 Petronela Fords, 55001 Çamurcuoğlu Place Apt. 4, 693 אלישבע Keys)",
   rf"(?=\d)(?:(?<![\w$.,/:-])|(?<=\\n)){NOT_CITED}\d{{1,6}}[A-Za-z]?,?\s+(?-i:(?:{W}\s+){{1,4}}(?:{USPS}|{ABBR})\b\.?){UNIT}", 0.5),
  ("a named street without house number after 'on', 'onto', 'along', 'off', 'corner of', 'side of', 'end of' (enter on Maj Junctions, the corner of Pavel Course and Mihkel Manors)",
   rf"(?-i:(?=[\p{{Lu}}\p{{Lo}}]))(?<=[fn]\s)(?<=\b(?:on|onto|along|off|corner\s+of|side\s+of|end\s+of)\s)(?-i:(?:{W2}\s+){{1,3}}(?:{SAFE})\b)(?:\s+{STREET_WORD}|\s+and\s+(?-i:(?:{W2}\s+){{1,3}}(?:{USPS})\b))?", 0.45),
  ("a named street before the word street / road / avenue (Gailius Ford street, Boudart Tunnel street, Union Ports St.)",
   rf"(?-i:(?=[\p{{Lu}}\p{{Lo}}])(?<![\p{{L}}\p{{M}}'’-])(?=(?:\S+\s+){{2,4}}(?i:street|st\b|road|avenue))(?<!(?:\p{{Lu}}|\p{{Lo}})[\p{{L}}\p{{M}}'’-]*\s)(?:{W2}\s+){{1,3}}(?:{USPS})\s+){STREET_WORD}", 0.45),
  ("a unit line of a multi-line address after a line break (real or a literal \\n) and 1-4 non-word characters (\\n??? Suite 385)",
   r"(?=[asuf])(?<=(?:^|\n|\\n)[^\w\n\\]{1,4})(?:apt|apartment|suite|ste|unit|flat)\.?\s*#?\d{1,6}\b", 0.4),
 ]),
 "govaudit_struct_postcode_line": ("STREET_ADDRESS", [
  ("the last line of a multi-line address: 1-6 capitalised words (a country or town, any script, 'and' / 'of' inside, a bracketed part) then a 4-6 digit postcode ending the line or the text (\\n Guinea-Bissau 76449, \\n Sao Tome and Principe 02877); not a year",
   rf"(?=\d)(?<={BREAK}(?-i:{W}(?:[ ](?:{W}|and|of|the|da|de|do|du|et|\([^()\n]{{1,40}}\))){{0,5}}),?\s)(?!(?:19|20)\d\d(?!\d))\d{{4,6}}(?=[ \t]*(?:$|\n|\\n))", 0.45),
  ("a postcode, then the town, alone on a line (\\n 10115 Berlin, \\n 1234 AB Amsterdam, \\n 00-950 Warszawa, \\n 1000-001 Lisboa); not a year",
   rf"(?=\d)(?<={BREAK})(?!(?:19|20)\d\d(?!\d))(?:\d{{4}}\s?(?-i:[A-Z]{{2}})(?!\p{{L}})|\d{{4,5}}|\d{{2}}-\d{{3}}|\d{{4}}-\d{{3}}|\d{{3}}\s\d{{2}})(?=\s+(?-i:{W}(?:[ -]{W}){{0,3}})[ \t]*(?:$|\n|\\n))", 0.45),
 ]),
}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build() -> str:
    """The YAML text of addresses.yaml."""
    out = [HEADER, "recognizers:"]
    for name, (entity, patterns) in PATTERNS.items():
        out += [f"  - name: {name}", f"    supported_entity: {entity}", "    patterns:"]
        for description, pattern, score in patterns:
            regex.compile(pattern, regex.IGNORECASE | regex.MULTILINE | regex.DOTALL)
            out += [f"      - name: {_quoted(description)}", f"        regex: {_quoted(pattern)}", f"        score: {score}"]
        out += ["    context: []"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(build(), end="")
