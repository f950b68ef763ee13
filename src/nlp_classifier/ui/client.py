"""A small HTTP client for the nlpc API (models, predictions, the review queue), used by the web UI. Every
failure becomes an ``ApiError`` whose message a person can act on (API not running, key missing,
unknown model, text too long); nothing else leaks out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx

from ..errors import NlpcError

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_KEY_HEADER = "X-API-Key"
DEFAULT_TIMEOUT_S = 60.0


def default_api_key() -> str:
    """$NLPC_API_KEY (``nlpc run`` passes the key it made for the session), else empty."""
    return os.environ.get("NLPC_API_KEY", "")


def default_api_url() -> str:
    """$NLPC_API_URL (set by ``nlpc ui --api-url``), else the API's default address."""
    return (os.environ.get("NLPC_API_URL") or DEFAULT_API_URL).rstrip("/")


class ApiError(NlpcError):
    """A request to the API failed; ``status`` is the HTTP status (None when the API could not be reached).
    When the API refused one text of a prediction request (too long, empty), ``text_index`` is its position in
    the request's texts and ``text_problem`` the API's reason, so a caller can name the row it came from."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        text_index: int | None = None,
        text_problem: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.text_index = text_index
        self.text_problem = text_problem

    @property
    def unreachable(self) -> bool:
        return self.status is None


def _detail(response: httpx.Response) -> str:
    """The API's own explanation of an error: FastAPI's ``detail`` (a string or a list of field errors)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    detail = body.get("detail", body.get("error", body)) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("msg") or detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{where}: {item.get('msg', item)}" if where else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        detail = "; ".join(parts)
    return str(detail)


def _refused_text(response: httpx.Response) -> tuple[int, str] | None:
    """(position, reason) of the first text a prediction request was refused for (a 422 whose field error is at
    ``body.texts.N``, or ``body.text`` for a single text), else None."""
    if response.status_code != 422:
        return None
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    for item in detail if isinstance(detail, list) else []:
        loc = item.get("loc", []) if isinstance(item, dict) else []
        if loc[:2] == ["body", "texts"] and len(loc) == 3 and isinstance(loc[2], int):
            return loc[2], str(item.get("msg", ""))
        if loc == ["body", "text"]:
            return 0, str(item.get("msg", ""))
    return None


class ApiClient:
    """Calls the API at ``base_url``; ``api_key`` is sent in the ``X-API-Key`` header when given."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT_S):
        self.base_url = (base_url or default_api_url()).rstrip("/")
        self.api_key = api_key or None
        self.timeout = timeout

    # --- transport ---------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        headers = {API_KEY_HEADER: self.api_key} if self.api_key else {}
        url = f"{self.base_url}{path}"
        try:
            response = httpx.request(method, url, json=json, params=params, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ApiError(
                f"The API at {self.base_url} did not answer {method} {path} within {self.timeout:.0f} s."
            ) from None
        except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise ApiError(
                f"Cannot reach the API at {self.base_url} ({type(exc).__name__}). Start it with "
                "`nlpc serve`, or point the UI at it with --api-url / $NLPC_API_URL."
            ) from None
        if response.status_code >= 400:
            index, problem = _refused_text(response) or (None, None)
            raise ApiError(
                self._explain(response, path), status=response.status_code, text_index=index, text_problem=problem
            )
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"{url} answered with something that is not JSON: is {self.base_url} the nlpc API?",
                status=response.status_code,
            ) from None

    @staticmethod
    def _explain(response: httpx.Response, path: str) -> str:
        detail = _detail(response)
        status = response.status_code
        if status in (401, 403):
            hint = " Enter a valid API key in the sidebar." if status == 401 or "not valid" in detail else ""
            return f"The API refused {path} ({status}): {detail}.{hint}"
        if status == 404:
            return f"Not found ({path}): {detail}"
        if status == 409:
            return f"Someone else changed this first ({path}, 409): {detail}"
        if status == 413:
            return f"The request is too large for the API (413): {detail}"
        if status in (400, 422):
            return f"The API rejected the input ({status}): {detail}"
        if status == 429:
            return f"The API is busy (429): {detail}. Try again in a moment."
        return f"The API failed on {path} ({status}): {detail}"

    # --- endpoints ---------------------------------------------------------------------------------------
    def models(self) -> dict:
        """GET /models: the current model and a description of every available one."""
        return self._request("GET", "/models")

    def training(self) -> dict:
        """GET /models/training: the model being trained in the background for the API, if any."""
        return self._request("GET", "/models/training")

    def switch_model(self, model_name: str) -> dict:
        """POST /models/switch: make ``model_name`` the API's current model (needs the API key)."""
        return self._request("POST", "/models/switch", {"model_name": model_name})

    def predict(
        self, texts: Sequence[str], model: str | None = None, threshold: float | None = None, explain: bool = False
    ) -> list[dict]:
        """POST /predict for a list of texts: one result (predicted_label, confidence, scores, ...) per text;
        ``explain`` adds each text's ``explanation`` (a score per word)."""
        return self._predict("/predict", texts, model, threshold, explain)

    def predict_toxicity(
        self, texts: Sequence[str], model: str | None = None, threshold: float | None = None
    ) -> list[dict]:
        """POST /predict/toxicity: one result (is_toxic, toxicity_scores, flagged_categories, ...) per text."""
        return self._predict("/predict/toxicity", texts, model, threshold)

    def _predict(
        self, path: str, texts: Sequence[str], model: str | None, threshold: float | None, explain: bool = False
    ) -> list[dict]:
        texts = list(texts)
        if not texts:
            return []
        body: dict[str, Any] = {"text": texts[0]} if len(texts) == 1 else {"texts": texts}
        if model:
            body["model"] = model
        if threshold is not None:
            body["threshold"] = float(threshold)
        if explain:
            body["explain"] = True
        answer = self._request("POST", path, body)
        if not isinstance(answer, dict):
            raise ApiError(f"{path} answered something that is not a JSON object: is {self.base_url} the nlpc API?")
        if "results" not in answer:  # a single text: the seed's flat answer
            return [answer]
        results = answer["results"]
        if not isinstance(results, list) or len(results) != len(texts):
            raise ApiError(
                f"{path} answered {len(results) if isinstance(results, list) else 'no'} results for {len(texts)} texts"
            )
        return [{"model": answer.get("model"), **result} for result in results]

    # --- review queue (reviewer or admin keys) ------------------------------------------------------------
    def reviews(self, state: str | None = "pending", limit: int = 20, model: str | None = None) -> list[dict]:
        """GET /v1/reviews: the first ``limit`` reviews in ``state`` (pending: most uncertain first)."""
        params: dict[str, Any] = {"limit": limit}
        if state:
            params["state"] = state
        if model:
            params["model"] = model
        return list(self._request("GET", "/v1/reviews", params=params)["reviews"])

    def review(self, review_id: int) -> dict:
        """GET /v1/reviews/{id}: one review with its item."""
        return self._request("GET", f"/v1/reviews/{review_id}")

    def review_explanation(self, review_id: int) -> dict:
        """The reviewed model's word attributions for the review's text (``GET /v1/reviews/{id}/explanation``)."""
        return self._request("GET", f"/v1/reviews/{review_id}/explanation")

    def claim_review(self, review_id: int) -> dict:
        """POST /v1/reviews/{id}/claim: hold the review for this key's reviewer."""
        return self._request("POST", f"/v1/reviews/{review_id}/claim")

    def decide_review(self, review_id: int, label: str, note: str | None = None) -> dict:
        """POST /v1/reviews/{id}/decision: the reviewer's label (one of the review's labels) and a note."""
        return self._request("POST", f"/v1/reviews/{review_id}/decision", {"label": label, "note": note or None})

    def undo_review(self, review_id: int) -> dict:
        """POST /v1/reviews/{id}/undo: put this reviewer's last decision back to pending."""
        return self._request("POST", f"/v1/reviews/{review_id}/undo")

    def review_stats(self) -> dict:
        """GET /v1/reviews/stats: agreement, precision, queue size, overturned labels."""
        return self._request("GET", "/v1/reviews/stats")
