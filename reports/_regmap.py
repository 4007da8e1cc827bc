"""What each report section evidences, against which provision, and what the report does not establish."""
from __future__ import annotations

import re

__all__ = ["REGULATORY_MAP", "NOT_ESTABLISHED", "SECTION_TITLES", "LL144_PROVISION", "ll144_categories"]

SECTION_TITLES = {
    "model": "Model and intended use",
    "data": "Data and lineage",
    "performance": "Performance",
    "fairness": "Fairness",
    "counterfactual": "Counterfactual identity swaps",
    "attribution": "Attributions",
    "policy": "Policy checks",
    "signoff": "Sign-off history",
}

LL144_PROVISION = "NYC Local Law 144 (6 RCNY § 5-301)"
_SEX = re.compile(r"sex|gender", re.IGNORECASE)
_RACE = re.compile(r"race|ethnic", re.IGNORECASE)


def ll144_categories(features: list[str]) -> dict[str, list[str]]:
    """The audited features that hold LL144's categories, by name: sex (sex, gender) and race/ethnicity."""
    return {"sex": [f for f in features if _SEX.search(f)], "race/ethnicity": [f for f in features if _RACE.search(f)]}


# (provision, what it asks for, report sections that hold the evidence)
REGULATORY_MAP: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("EU AI Act Art. 10(2)(f)-(g), 10(5)",
     "Data governance: provenance and preparation of training, validation and test data; examination for possible "
     "biases and measures to detect and mitigate them.", ("data", "fairness")),
    ("EU AI Act Art. 13(3)(b)(v)",
     "Instructions for use state the system's performance regarding specific persons or groups.",
     ("performance", "fairness")),
    ("EU AI Act Art. 15(1), (3)",
     "Appropriate level of accuracy; accuracy levels and the relevant accuracy metrics are declared.", ("performance",)),
    ("EU AI Act Annex IV(2)(b)",
     "Design specifications: key design choices, rationale, assumptions, what the system optimises for.",
     ("model", "data")),
    ("EU AI Act Annex IV(2)(d)",
     "Data requirements: datasheets with provenance, scope, characteristics, how data were obtained, selected, "
     "labelled and cleaned.", ("data",)),
    ("EU AI Act Annex IV(2)(g)",
     "Validation and testing: data used, metrics for accuracy, robustness and potentially discriminatory impacts, "
     "test logs and reports.", ("performance", "fairness", "counterfactual", "attribution", "policy")),
    (LL144_PROVISION,
     "Selection (or scoring) rates and impact ratios by sex, race/ethnicity and their intersection; number of "
     "individuals in the unknown category; categories under 2% that were excluded.", ("fairness",)),
    ("EEOC Uniform Guidelines, 29 CFR 1607.4(D)",
     "Four-fifths rule: a selection rate below 80% of the highest group's rate is generally regarded as evidence "
     "of adverse impact.", ("fairness", "policy")),
    ("GDPR Art. 5(1)(c)",
     "Data minimisation: personal data adequate, relevant and limited to what is necessary.", ("data",)),
    ("GDPR Art. 25",
     "Data protection by design and by default: technical measures such as pseudonymisation built into processing.",
     ("data", "policy")),
)

NOT_ESTABLISHED = (
    "Legal compliance. The report gives evidence that a reviewer weighs; it is not a conformity assessment, a legal "
    "opinion or a determination under any law.",
    "An independent bias audit. NYC Local Law 144 requires the audit to be done by an independent auditor and "
    "applies to automated employment decision tools; this report is produced by the team's own tooling.",
    "Absence of discrimination. Group rates cover only the sensitive features configured for this run and the "
    "evaluation sample; other groups, proxies and individual cases are not examined. Groups flagged as small are "
    "reported but excluded from verdicts, and their estimates are unreliable.",
    "Legal significance of the four-fifths rule. It is a rule of thumb (29 CFR 1607.4(D) itself allows smaller "
    "differences to matter and larger ones not to); confidence intervals show the sampling uncertainty.",
    "Robustness to all identity cues. Counterfactual swaps test only the listed term families and templates.",
    "Faithful explanations. Attributions are Integrated-Gradients approximations (see the convergence delta); "
    "they show which tokens moved the score, not why the model learned them.",
    "Complete anonymisation. Scrubbing is automated entity recognition with thresholds; the residual check "
    "samples rows. Scrubbed text can still identify people (GDPR Recital 26).",
    "Performance in production. Metrics hold for the evaluation data at the time of the run, not after drift.",
)
