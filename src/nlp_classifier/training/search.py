"""Running the points of a grid search: one after another in this process, or as tasks on a local Ray."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from ..progress import stage

RAY_CPUS = 2


def map_points(
    fn: Callable[..., Any],
    shared: Sequence[Any],
    points: Sequence[Any],
    *,
    use_ray: bool = False,
    describe: Callable[[Any], str] = str,
) -> list[Any]:
    """``[fn(*shared, point) for point in points]``, in order. With ``use_ray`` each point is a Ray task and the
    ``shared`` arguments (the data) go into the object store once; a Ray started here is shut down after."""
    if not use_ray:
        results = []
        for point in points:
            with stage(describe(point)):
                results.append(fn(*shared, point))
        return results
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=RAY_CPUS, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        task = ray.remote(fn)
        refs = [ray.put(value) for value in shared]
        with stage(
            f"Running {len(points)} grid points as Ray tasks ({int(ray.cluster_resources().get('CPU', 0))} CPUs)"
        ):
            return ray.get([task.remote(*refs, point) for point in points])
    finally:
        if started:
            ray.shutdown()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'nlp-classifier[distributed]'") from None
    return ray
