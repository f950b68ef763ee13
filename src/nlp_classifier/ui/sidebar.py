"""The sidebar on every page: where the API is, its key, and the model picker (fed by ``GET /models``)."""

from __future__ import annotations

import logging
import os

import streamlit as st

from ..defaults import serves_fallback
from ..errors import ConfigError
from ..training.background_status import RUNNING
from . import REFRESH_ENV, refresh_seconds, session
from .client import ApiError
from .models import ModelInfo, ModelsView

FLASH_KEY = "_flash"
LAST_CURRENT_KEY = "_api_current"  # the API's current model as the previous run of this session saw it
log = logging.getLogger("nlp_classifier.ui")


def training_refresh_seconds() -> float:
    """``$NLPC_UI_REFRESH_SECONDS`` (set by ``nlpc ui``, which checks it), else the default."""
    try:
        return refresh_seconds(os.environ.get(REFRESH_ENV))
    except ConfigError as exc:  # only when the app is run without ``nlpc ui``
        log.warning("%s; using the default", exc)
        return refresh_seconds(None)


def flash(kind: str, message: str) -> None:
    """Show ``message`` once, on the next run (after ``st.rerun``)."""
    st.session_state[FLASH_KEY] = (kind, message)


def render() -> None:
    """Connection settings, the API's status and the model picker."""
    bar = st.sidebar
    bar.text_input(
        "API URL", key=session.API_URL_KEY, help="Base URL of `nlpc serve` (also `nlpc ui --api-url` or $NLPC_API_URL)."
    )
    bar.text_input(
        "API key",
        key=session.API_KEY_KEY,
        type="password",
        help="Sent as the X-API-Key header: needed to switch the API's model, and for predictions "
        "when the API is configured to require a key.",
    )
    if FLASH_KEY in st.session_state:
        kind, message = st.session_state.pop(FLASH_KEY)
        getattr(bar, kind)(message)
    error = session.models_error()
    view = session.models_view()
    if error is not None:
        bar.error("Not connected to the API" if error.unreachable else "The API could not list its models")
        return
    if view is None:
        return
    if not view.models:
        bar.warning("The API serves no models. Train one (`nlpc train baseline`) and restart `nlpc serve`.")
        return
    follow_the_api(view, bar)
    chosen = st.session_state.get(session.MODEL_KEY)
    if chosen is not None and chosen not in view.models:
        replacement = view.current if view.current in view.models else view.names[0]
        bar.warning(f"Model '{chosen}' is no longer served by the API; using '{replacement}' instead.")
        st.session_state[session.MODEL_KEY] = replacement
    elif chosen is None:
        st.session_state[session.MODEL_KEY] = view.current if view.current in view.models else view.names[0]
    name = bar.selectbox(
        "Model",
        view.names,
        key=session.MODEL_KEY,
        format_func=lambda n: picker_label(view, n),
        help="The model this session's requests use (sent as the per-request `model`). "
        "It does not change the API's current model for anyone else.",
    )
    info = view.models[name]
    bar.markdown(model_details(info, view))
    if name == view.current and view.notice:  # the API's note on its current model; asks for the training only then
        training = training_status()
        if training and training.get("state") == RUNNING:
            with bar:
                training_notice(view.current, view.notice)
        else:
            show_notice(bar, view.current, view.notice)
    if name != view.current:
        if bar.button(
            f"Make '{name}' the API's current model",
            key="switch_model",
            help="POST /models/switch: changes the default model for every client of the API.",
        ):
            try:
                session.client().switch_model(name)
            except ApiError as exc:
                bar.error(str(exc))
            else:
                flash("success", f"The API's current model is now '{name}'.")
                st.rerun()


def follow_the_api(view: ModelsView, bar) -> None:
    """A session that uses the API's current model moves with it when the API switches (to the model trained in
    the background, say, or because someone else switched it), and says so. A session that picked another model
    keeps it."""
    previous = st.session_state.get(LAST_CURRENT_KEY)
    st.session_state[LAST_CURRENT_KEY] = view.current
    chosen = st.session_state.get(session.MODEL_KEY)
    if previous is None or view.current == previous or chosen != previous or view.current not in view.models:
        return
    st.session_state[session.MODEL_KEY] = view.current
    bar.info(f"The API's current model is now '{view.current}' (it was '{previous}'); this session uses it.")


def show_notice(where, served: str | None, notice: str) -> None:
    """A warning for the TF-IDF fallback, a note for a model being finished."""
    (where.warning if serves_fallback(served) else where.info)(notice)


@st.fragment(run_every=training_refresh_seconds())
def training_notice(current: str | None, notice: str) -> None:
    """The API's note on its current model (``GET /models``: the fallback's warning with the background training's
    progress, or the note on a model being finished), asked for again every ``$NLPC_UI_REFRESH_SECONDS``; ``notice``
    is the one the page started with, shown while the API cannot answer. Once the training is no longer running, or
    the API serves another model, the whole page runs again: it reads the models afresh and this session follows
    the switch."""
    training = training_status()
    try:
        listed = session.client().models()
    except ApiError:
        listed = {"current_model": current, "notice": notice}  # the next refresh asks again; the page shows its error
    if not training or training.get("state") != RUNNING or listed.get("current_model") != current:
        st.rerun(scope="app")
    if listed.get("notice"):
        show_notice(st, current, listed["notice"])


def training_status() -> dict | None:
    """The API's ``GET /models/training`` answer; None when it cannot say (an API without that endpoint)."""
    try:
        return session.client().training()
    except ApiError:
        return None


def picker_label(view: ModelsView, name: str) -> str:
    """A model's name, marked when it is the API's current or toxicity model."""
    roles = [role for role, holder in (("current", view.current), ("toxicity", view.toxicity)) if holder == name]
    return f"{name} ({', '.join(roles)})" if roles else name


def model_details(info: ModelInfo, view: ModelsView) -> str:
    """Markdown lines describing one model: family, task, base model, version, test metrics, latency, and
    whether it is the API's current or toxicity model."""
    lines = [
        f"**{info.name}** · {info.family} · task `{info.task}`",
        f"base model: {info.base_model or '-'} · version {info.version or '-'}",
    ]
    if info.name == view.current:
        lines.append(":material/check_circle: the API's current model")
    if info.name == view.toxicity:
        lines.append(":material/shield: the API's toxicity model")
    if info.description:
        lines.append(f"_{info.description}_")
    headline = info.headline()
    if headline:
        lines.append("test: " + " · ".join(f"{k} {v:.3f}" for k, v in headline.items()))
    if info.latency_ms is not None:
        lines.append(f"latency: {info.latency_ms:.2f} ms per text (measured)")
    return "  \n".join(lines)
