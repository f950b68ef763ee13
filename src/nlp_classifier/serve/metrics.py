"""Prometheus metrics of one app instance (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServiceMetrics:
    """Requests and latency per endpoint; batch sizes, inference time and texts per model; models in memory."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "nlpc_http_requests_total",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "nlpc_http_request_duration_seconds",
            "HTTP request latency by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "nlpc_inference_batch_size",
            "Texts per model call (micro-batch size)",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.inference = Histogram(
            "nlpc_inference_duration_seconds",
            "Time of one batched model call",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.texts = Counter("nlpc_texts_classified_total", "Texts classified by model", ["model"], registry=r)
        self.loads = Counter(
            "nlpc_model_loads_total", "Model loads by model and outcome", ["model", "outcome"], registry=r
        )
        self.loaded = Gauge("nlpc_models_loaded", "Models held in memory", registry=r)
        self.current = Gauge("nlpc_current_model", "1 for the model /predict uses by default", ["model"], registry=r)
        self.records_written = Counter(
            "nlpc_records_written_total", "Predictions recorded in the workflow database", registry=r
        )
        self.records_lost = Counter(
            "nlpc_records_lost_total",
            "Predictions that should have been recorded but were not, by reason "
            "(database_unavailable, queue_full, write_error, not_started)",
            ["reason"],
            registry=r,
        )

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_batch(self, model: str, n_texts: int, seconds: float) -> None:
        self.batch_size.labels(model).observe(n_texts)
        self.inference.labels(model).observe(seconds)
        self.texts.labels(model).inc(n_texts)

    def set_current(self, previous: str | None, current: str) -> None:
        if previous and previous != current:
            self.current.labels(previous).set(0)
        self.current.labels(current).set(1)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
