# syntax=docker/dockerfile:1
# Two images from one file, built from the repository root:
#   docker build --target api -t nlp-classifier-api .   # `nlpc serve` on port 8000 (TF-IDF + transformers, CPU)
#   docker build --target ui  -t nlp-classifier-ui  .   # `nlpc ui` on port 8501, talks to the API over HTTP
# Both install with `make install`, the command developers and CI run. Models are not baked in: they live in a
# volume at /models, filled by `nlpc models pull` or `nlpc prepare` (see docker-compose.yml, docs/registry.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: sources plus make; each target's virtual environment is made by the Makefile ---------------------
FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
# CPU-only torch wheels: PyPI's default Linux torch pulls in several GB of CUDA libraries.
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md Makefile ./
COPY src ./src
COPY data ./data

FROM build AS build-api
ARG API_EXTRAS=serve,transformers,onnx,storage
ARG API_TORCH=torch==2.13.0
RUN make install EXTRAS=${API_EXTRAS} TORCH=${API_TORCH}

FROM build AS build-ui
ARG UI_EXTRAS=ui
RUN make install EXTRAS=${UI_EXTRAS} TORCH=

# --- runtime: no compilers or make; an unprivileged user; models in a volume ----------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 nlpc \
    && mkdir /models \
    && chown nlpc /models
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NLPC_MODELS_DIR=/models \
    HF_HUB_OFFLINE=1 \
    GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false

FROM runtime AS api
COPY --from=build-api /app /app
USER nlpc
VOLUME /models
ENV NLPC_HOST=0.0.0.0 NLPC_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["nlpc", "serve"]

FROM runtime AS ui
COPY --from=build-ui /app /app
USER nlpc
ENV NLPC_UI_HOST=0.0.0.0 NLPC_UI_PORT=8501 NLPC_API_URL=http://api:8000
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["nlpc", "ui"]
