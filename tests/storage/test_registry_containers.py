"""The container files, checked without a Docker engine (none runs here): the images install with the Makefile's
own command, copy only what the build context keeps, run real ``nlpc`` commands, and the compose file wires the
API, the UI and the models volume together."""

from __future__ import annotations

import json
import re
import shlex

import yaml
from testkit.cli import ROOT, make_dry_run

from nlp_classifier.cli import build_parser

DOCKERFILE = ROOT / "Dockerfile"


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides ('!' re-includes)."""
    parts = path.strip("/").split("/")
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            result = not negate
    return result


def instructions(text: str) -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments) for each Dockerfile instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stage, out = "", []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            stage = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
        out.append((stage, keyword.upper(), rest.strip()))
    return out


def test_images_install_with_the_makefiles_command_and_copy_only_kept_files():
    steps = instructions(DOCKERFILE.read_text())
    runs = {stage: rest for stage, kw, rest in steps if kw == "RUN" and "make install" in rest}
    assert runs == {
        "build-api": "make install EXTRAS=${API_EXTRAS} TORCH=${API_TORCH}",
        "build-ui": "make install EXTRAS=${UI_EXTRAS} TORCH=",
    }
    stages = {stage for stage, kw, _ in steps if kw == "FROM"}
    assert {"api", "ui"} <= stages
    patterns = dockerignore_patterns()
    for stage, kw, rest in steps:
        if kw == "COPY" and not rest.startswith("--from"):
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"{stage}: COPY {source}: not in the repository"
                assert not ignored(source, patterns), f"{stage}: COPY {source}: excluded by .dockerignore"
    # What the images' `make install` runs: the same recipe as a developer's, with the extras and torch chosen.
    dry = make_dry_run("install", "EXTRAS=ui", "TORCH=")
    assert '-m pip install --quiet -e ".[ui]"' in dry and "torch" not in dry
    dry = make_dry_run("install", "EXTRAS=serve,transformers")
    assert dry.index('install --quiet "torch==2.13.0"') < dry.index('install --quiet -e ".[serve,transformers]"')


def test_dockerignore_drops_checkpoints_environments_caches_and_secrets_but_keeps_the_sources():
    patterns = dockerignore_patterns()
    for path in [
        ".venv/bin/python",
        "src/nlp_classifier/__pycache__/card.cpython-311.pyc",
        ".git/HEAD",
        "models/MODEL_VERSION.json",
        "models/transformer/distilbert/checkpoint-800/optimizer.pt",
        "anywhere/checkpoint-1/trainer_state.json",
        "models/.nlpc-pull/baselines/x.joblib",
        ".nlpc-cache/tokens.npy",
        "data/.cache/x",
        "gcp-credentials.json",
        ".env",
        "tests/conftest.py",
    ]:
        assert ignored(path, patterns), f"{path} would be sent to the Docker build"
    for path in [
        "pyproject.toml",
        "README.md",
        "Makefile",
        "src/nlp_classifier/card.py",
        "src/nlp_classifier/presets/standard.yaml",
        "data/davidson/labeled_data.csv.gz",
        "data/jigsaw/train.csv.gz",
    ]:
        assert not ignored(path, patterns), f"{path} is needed by the image but ignored"


def test_the_images_commands_are_real_nlpc_commands():
    steps = instructions(DOCKERFILE.read_text())
    parser = build_parser()
    commands = {stage: rest for stage, kw, rest in steps if kw == "CMD"}
    for stage in ("api", "ui"):
        argv = json.loads(commands[stage])  # the exec form: a JSON list
        assert argv[0] == "nlpc"
        parser.parse_args(argv[1:])
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    script = compose["services"]["models"]["command"][2].replace("$$", "$")
    for branch in re.findall(r"(?:then|else) (nlpc [^;]+);", script):
        parser.parse_args(shlex.split(branch.replace('"$NLPC_MODELS_URL"', "gs://bucket"))[1:])


def test_compose_runs_the_api_and_ui_on_one_models_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"models", "api", "ui"} and "models" in compose["volumes"]
    env = {
        stage: dict(re.findall(r"(NLPC_[A-Z_]+)=(\S+)", rest))
        for stage, kw, rest in instructions(DOCKERFILE.read_text())
        if kw == "ENV"
    }
    models_dir = env["runtime"]["NLPC_MODELS_DIR"]
    assert services["models"]["volumes"] == [f"models:{models_dir}"]
    assert services["api"]["volumes"] == [f"models:{models_dir}:ro"]
    assert services["api"]["depends_on"]["models"]["condition"] == "service_completed_successfully"
    api_port = env["api"]["NLPC_PORT"]
    assert services["api"]["ports"][0].endswith(f":{api_port}")
    assert services["ui"]["environment"]["NLPC_API_URL"] == f"http://api:{api_port}"
    assert services["ui"]["ports"][0].endswith(f":{env['ui']['NLPC_UI_PORT']}")
    assert services["ui"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["api"]["image"] == services["models"]["image"] and services["models"]["build"]["target"] == "api"
    assert services["ui"]["build"]["target"] == "ui"
