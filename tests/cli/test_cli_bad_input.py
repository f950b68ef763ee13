"""Every bad-input error through the real CLI: a clear message naming file, row and column, exit status 2, and
nothing written (no model, no card, no MODEL_VERSION.json change, no output file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit.cli import run_cli
from testkit.frames import tiny_frame

ROWS = tiny_frame(10)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def existing_models(tmp_path) -> Path:
    """A models folder that already has a MODEL_VERSION.json (which a failed run must leave untouched)."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "MODEL_VERSION.json").write_text(json.dumps({"version": "1.4.0", "models": {"other": "1.4.0"}}))
    return folder


def write_csv(path: Path, frame=ROWS) -> Path:
    frame.to_csv(path, index=False)
    return path


def empty_text(tmp_path):
    frame = ROWS.copy()
    frame.loc[6, "text"] = "   "
    return write_csv(tmp_path / "empty.csv", frame)


def unknown_label(tmp_path):
    frame = ROWS.copy()
    frame.loc[4, "label"] = "spam"
    return write_csv(tmp_path / "labels.csv", frame)


def bad_multi_label(tmp_path):
    frame = ROWS.copy()
    frame["insult"] = frame["insult"].astype(str)
    frame.loc[9, "insult"] = "2"
    return write_csv(tmp_path / "multi.csv", frame)


def bad_davidson_class(tmp_path):
    path = tmp_path / "davidson_like.csv"
    path.write_text(
        ",count,hate_speech,offensive_language,neither,class,tweet\n"
        "0,3,0,0,3,2,a fine day\n1,3,0,3,0,1,you idiot\n2,3,0,3,0,7,what\n"
    )
    return path


def undecodable(tmp_path):
    path = tmp_path / "latin1.csv"
    write_csv(path)
    lines = path.read_bytes().split(b"\n")
    lines[3] = b"caf\xe9 " + lines[3]  # data row 3 (line 4) starts with a Latin-1 byte
    path.write_bytes(b"\n".join(lines))
    return path


def undecodable_jsonl(tmp_path):
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b'{"text": "fine", "label": "ok"}\n{"label": "abuse", "text": "caf\xe9 idiot"}\n')
    return path


def semicolon_separated(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(ROWS.to_csv(index=False, sep=";"))
    return path


def json_array(tmp_path):
    path = tmp_path / "array.json"
    path.write_text(ROWS.to_json(orient="records"))
    return path


def utf16(name: str):
    """A file saved as UTF-16 with its byte-order mark (Excel's "Unicode Text" is UTF-16 TSV)."""

    def make(tmp_path):
        path = tmp_path / name
        if name.endswith(".jsonl"):
            text = ROWS.to_json(orient="records", lines=True)
        else:
            text = ROWS.to_csv(index=False, sep="\t" if name.endswith(".tsv") else ",")
        path.write_text(text, encoding="utf-16")
        return path

    return make


# (file maker, CLI options after `--task FILE` (a case naming its own --task ends with the option that takes the
# file), what the message must contain)
CASES = {
    "missing file": (lambda tmp: tmp / "nowhere.csv", [], ["nowhere.csv", "file not found"]),
    "missing text column": (
        lambda tmp: write_csv(tmp / "cols.csv"),
        ["--text-column", "body"],
        ["cols.csv", "column 'body'", "missing column 'body'", "columns are: text, label"],
    ),
    "missing label column": (
        lambda tmp: write_csv(tmp / "cols.csv"),
        ["--label-column", "class"],
        ["cols.csv", "column 'class'", "missing column"],
    ),
    "empty text": (empty_text, [], ["empty.csv", "row 7", "column 'text'", "empty text"]),
    "unknown label": (
        unknown_label,
        ["--labels", "ok,abuse"],
        ["labels.csv", "row 5", "column 'label'", "unknown label 'spam'", "expected one of: ok, abuse"],
    ),
    "unknown multi-label value": (
        bad_multi_label,
        ["--label-columns", "toxic,insult"],
        ["multi.csv", "row 10", "column 'insult'", "unknown label '2'"],
    ),
    "unknown davidson class": (
        bad_davidson_class,
        ["--task", "davidson3", "--data"],
        ["davidson_like.csv", "row 3", "column 'class'", "unknown label '7'"],
    ),
    # --data replaces a built-in task's bundled file and is read in its format; the error says how to go on
    "own file for the davidson task": (
        lambda tmp_path: write_csv(tmp_path / "mine.csv"),
        ["--task", "davidson", "--data"],
        ["mine.csv", "missing column 'tweet'", "in that task's own format", "--text-column", "--task FILE"],
    ),
    "own file for the jigsaw task": (
        lambda tmp_path: write_csv(tmp_path / "mine.csv"),
        ["--task", "jigsaw", "--data"],
        ["mine.csv", "missing column 'comment_text'", "task 'jigsaw' is read in that task's own format"],
    ),
    "undecodable bytes": (undecodable, [], ["latin1.csv", "row 3", "column 'text'", "undecodable bytes", "not UTF-8"]),
    "undecodable bytes (JSONL)": (undecodable_jsonl, [], ["bytes.jsonl", "row 2", "column 'text'", "not UTF-8"]),
    "UTF-16 file": (utf16("unicode.csv"), [], ["unicode.csv: the file is UTF-16", "re-save it as UTF-8"]),
    "UTF-16 file (TSV)": (utf16("unicode.tsv"), [], ["unicode.tsv: the file is UTF-16", "re-save it as UTF-8"]),
    "UTF-16 file (JSONL)": (utf16("unicode.jsonl"), [], ["unicode.jsonl: the file is UTF-16", "re-save it as UTF-8"]),
    # a CSV saved with another separator is read as one column named after the whole header line
    "semicolon separator": (
        semicolon_separated,
        [],
        [
            "semi.csv",
            "missing column 'text' (columns are: text;label;toxic;insult)",
            "separated by ';'",
            "read with ','",
        ],
    ),
    "JSON array instead of JSON Lines": (
        json_array,
        [],
        ["array.json, row 1: each line must be a JSON object", "this line is a JSON array", "one object per line"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_train_refuses_bad_data(case, tmp_path, existing_models):
    make, extra, expected = CASES[case]
    path = make(tmp_path)
    args = [*extra, str(path)] if extra[:1] == ["--task"] else ["--task", str(path), *extra]
    before = snapshot(existing_models)
    proc = run_cli("train", "baseline", *args, "--algorithm", "logistic_regression", models_dir=existing_models)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())  # the console may wrap long lines
    for part in expected:
        assert part in message, (part, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert snapshot(existing_models) == before  # no model, card or MODEL_VERSION.json change


@pytest.mark.parametrize(
    "case",
    [
        "empty text",
        "undecodable bytes",
        "missing text column",
        "UTF-16 file",
        "UTF-16 file (TSV)",
        "UTF-16 file (JSONL)",
        "semicolon separator",
        "JSON array instead of JSON Lines",
    ],
)
def test_predict_file_refuses_bad_input_and_writes_nothing(case, tmp_path, baseline_models_dir):
    make, extra, expected = CASES[case]
    path = make(tmp_path)
    out = tmp_path / "scored.csv"
    column = extra[1] if extra else "text"
    proc = run_cli(
        "predict", "--input", str(path), "--output", str(out), "--text-column", column, models_dir=baseline_models_dir
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    for part in expected:
        assert part in message, (part, proc.stderr)
    assert not out.exists() and not list(tmp_path.glob("*scored.csv*"))  # no output and no staging folder either


def test_evaluate_refuses_bad_labels_and_writes_nothing(tmp_path, baseline_models_dir):
    path = bad_davidson_class(tmp_path)
    out = tmp_path / "metrics.json"
    proc = run_cli(
        "evaluate",
        "--model",
        "logistic_regression",
        "--data",
        str(path),
        "--split",
        "all",
        "--output",
        str(out),
        models_dir=baseline_models_dir,
    )
    assert proc.returncode == 2 and "row 3, column 'class': unknown label '7'" in " ".join(proc.stderr.split())
    assert not out.exists()


def test_bad_grid_file_is_refused_before_training(tmp_path, existing_models):
    grid = tmp_path / "grid.yaml"
    grid.write_text("logistic_regression:\n  C: [1.0, -2]\n")
    before = snapshot(existing_models)
    proc = run_cli(
        "train",
        "baseline",
        "--task",
        str(write_csv(tmp_path / "ok.csv")),
        "--algorithm",
        "logistic_regression",
        "--grid",
        str(grid),
        models_dir=existing_models,
    )
    assert proc.returncode == 2 and "grid.yaml: logistic_regression.C must be positive numbers, got -2" in proc.stderr
    assert snapshot(existing_models) == before


@pytest.mark.parametrize("name", ["../escaped", "a/b", "x.y", "two words"])
def test_a_model_name_that_cannot_name_its_files_is_refused_before_training(name, tmp_path, existing_models):
    """A name becomes file and folder names: '../escaped' once wrote its model beside the models folder, 'a/b' into
    a sub-folder, and 'x.y' a training record named 'x.training_info.json'."""
    data = write_csv(tmp_path / "ok.csv")
    before = snapshot(tmp_path)
    for command in (["baseline", "--algorithm", "logistic_regression"], ["transformer"]):
        proc = run_cli("train", *command, "--task", str(data), "--name", name, models_dir=existing_models)
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert f"model name '{name}' cannot be used: a name is 1-100 letters, digits, '_' and '-'" in message
    assert snapshot(tmp_path) == before  # nothing written, in the models folder or beside it


def test_a_transformer_named_after_its_output_folder_is_told_to_take_a_name(tmp_path, existing_models):
    data = write_csv(tmp_path / "ok.csv")
    output = existing_models / "transformer" / "minilm_v1.2"
    proc = run_cli("train", "transformer", "--task", str(data), "--output", str(output), models_dir=existing_models)
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and not output.exists()
    assert "model name 'minilm_v1.2' (the --output folder's name; choose one with --name) cannot be used" in message


def test_a_default_name_takes_only_what_a_name_can_hold_from_the_file_name(tmp_path, existing_models):
    data = write_csv(tmp_path / "our posts (2024).v2.csv")
    proc = run_cli(
        "train", "baseline", "--task", str(data), "--algorithm", "logistic_regression", models_dir=existing_models
    )
    assert proc.returncode == 0, proc.stderr
    assert (existing_models / "baselines" / "logistic_regression_our_posts_2024.card.json").is_file()


def test_a_model_file_that_matches_its_card_but_cannot_be_loaded_is_one_error_line(tmp_path, baseline_models_dir):
    """Re-hashed after it was broken, the file passes the integrity check; loading it then fails inside joblib, and
    that is named like any other error, not a traceback."""
    import shutil

    from nlp_classifier.card import ModelCard

    models = Path(shutil.copytree(baseline_models_dir, tmp_path / "models"))
    card = ModelCard.read(models / "baselines" / "logistic_regression.card.json")
    card.artifact_path.write_bytes(b"not a joblib file")
    card.hash_files()
    card.save()
    proc = run_cli("predict", "--model", "logistic_regression", "hello", models_dir=models)
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"error: {card.artifact_path}: model 'logistic_regression' could not be loaded: " in message


# Each command that writes a file is given one it cannot write: under a file (`blocker/x`) or onto a folder. It
# says so before any work (the model is not even loaded), where it used to end in a traceback after the work.
UNWRITABLE_OUTPUTS = {
    "evaluate --output": (["evaluate", "--model", "logistic_regression", "--output", "blocker/x.json"], "--output"),
    "check --output": (["check", "--model", "logistic_regression", "--output", "blocker/x.json"], "--output"),
    "audit --output": (["audit", "--model", "logistic_regression", "--output", "blocker/x.json"], "--output"),
    "audit --chart": (["audit", "--model", "logistic_regression", "--chart", "folder.png"], "--chart"),
    "predict --output (under a file)": (["predict", "--input", "in.csv", "--output", "blocker/o.csv"], "--output"),
    "predict --output (a folder)": (["predict", "--input", "in.csv", "--output", "folder.csv"], "--output"),
    "bench --output": (["bench", "logistic_regression", "--output", "blocker/bench.json"], "--output"),
    "feedback export --output": (["feedback", "export", "--output", "blocker/reviewed.csv"], "--output"),
    "export teacher-scores --output": (
        ["export", "teacher-scores", "--model", "logistic_regression", "--output", "blocker/t.npz"],
        "--output",
    ),
    "train transformer --output": (["train", "transformer", "--task", "in.csv", "--output", "blocker/m"], "--output"),
    "train average --output": (
        ["train", "average", "--models", "a,b", "--name", "avg", "--output", "blocker"],
        "--output",
    ),
}


@pytest.mark.parametrize("case", list(UNWRITABLE_OUTPUTS))
def test_an_output_that_cannot_be_written_is_refused_before_any_work(case, tmp_path, baseline_models_dir):
    args, option = UNWRITABLE_OUTPUTS[case]
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "folder.csv").mkdir()
    write_csv(tmp_path / "in.csv")
    before = snapshot(tmp_path)
    env = {"NLPC_DATABASE_URL": f"sqlite:///{tmp_path / 'reviews.db'}"}
    proc = run_cli(*args, models_dir=baseline_models_dir, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert message.startswith(f"error: {option} ") and "Traceback" not in proc.stderr, proc.stderr
    assert "is a folder; give a file name" in message or "(not a writable folder)" in message or "is a file" in message
    assert snapshot(tmp_path) == before and not (tmp_path / "reviews.db").exists()


@pytest.mark.parametrize("given", ["--models-dir", "NLPC_MODELS_DIR"])
def test_a_models_folder_that_is_a_file_or_under_one_is_refused_before_training(given, tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    write_csv(tmp_path / "in.csv")
    folder = tmp_path / "blocker" / "models"
    flags = ["--models-dir", str(folder)] if given == "--models-dir" else []
    env = {"NLPC_MODELS_DIR": str(folder)} if given == "NLPC_MODELS_DIR" else {}
    proc = run_cli(*flags, "train", "baseline", "--task", "in.csv", cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    where = "--models-dir" if given == "--models-dir" else "$NLPC_MODELS_DIR"
    assert f"error: {where} {folder}: lies under {tmp_path / 'blocker'}, a file; give a folder" in " ".join(
        proc.stderr.split()
    )
    assert "trained" not in proc.stdout


# An output that is the command's own input file (spelt another way) would be overwritten with JSON or a PNG.
# Each case: the input file's name and content, the command, and what the error says.
OUTPUT_ONTO_INPUT = {
    "evaluate --data / --output": (
        "mine.csv",
        "text,label\nhave a nice day,Regular Speech\nyou are scum,Hate Speech\n",
        ["evaluate", "--model", "logistic_regression", "--data", "mine.csv", "--label-column", "label"],
        ["--split", "all", "--output", "./mine.csv"],
        "--output mine.csv: is also the --data file",
    ),
    "check --cases / --output": (
        "mine.csv",
        "functionality,text,expected\nneutral,I love my friends,not_hateful\n",
        ["check", "--model", "logistic_regression", "--cases", "mine.csv"],
        ["--output", "sub/../mine.csv"],
        "--output sub/../mine.csv: is also the --cases file",
    ),
    "audit --terms / --output (a symlink)": (
        "mine.yaml",
        "categories:\n  race: [Black, white]\n",
        ["audit", "--model", "logistic_regression", "--terms", "mine.yaml"],
        ["--output", "link"],
        "--output link: is also the --terms file",
    ),
}


@pytest.mark.parametrize("case", list(OUTPUT_ONTO_INPUT))
def test_an_output_that_is_the_commands_own_input_file_is_refused(case, tmp_path, baseline_models_dir):
    name, content, command, output, message = OUTPUT_ONTO_INPUT[case]
    (tmp_path / "sub").mkdir()
    source = tmp_path / name
    source.write_text(content)
    (tmp_path / "link").symlink_to(source)
    proc = run_cli(*command, *output, models_dir=baseline_models_dir, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in " ".join(proc.stderr.split()), proc.stderr
    assert source.read_text() == content


def test_a_lone_surrogate_escape_in_a_jsonl_file_is_read_as_the_replacement_character(tmp_path, baseline_models_dir):
    """JSON may escape a lone surrogate ("\\ud800"), which is not a character: scoring such a file ended in a
    UnicodeEncodeError when the output was written, and so did evaluating it. It is read as U+FFFD, as the API
    reads it."""
    path = tmp_path / "escaped.jsonl"
    path.write_text(
        '{"text": "hello \\ud800 there", "label": "Regular Speech"}\n{"text": "ok", "label": "Regular Speech"}\n'
    )
    for name in ("scored.csv", "scored.jsonl"):
        out = tmp_path / name
        proc = run_cli("predict", "--input", str(path), "--output", str(out), models_dir=baseline_models_dir)
        assert proc.returncode == 0, proc.stderr
        assert "hello \ufffd there" in out.read_text(encoding="utf-8") or "hello \\ufffd there" in out.read_text()
    proc = run_cli(
        "evaluate",
        "--model",
        "logistic_regression",
        "--data",
        str(path),
        "--split",
        "all",
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--json",
        models_dir=baseline_models_dir,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["n"] == 2, proc.stderr
