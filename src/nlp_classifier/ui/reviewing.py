"""The reviewer's place in the review queue, per browser session: the reviews this session holds (claimed through
the API, the one shown first) and the ones it decided (the last on top, for undo). Every change goes through the
API (``ApiClient``); the queue itself lives in the API's database."""

from __future__ import annotations

import streamlit as st

from .client import ApiClient, ApiError

HELD_KEY = "_review_held"  # review ids claimed by this session, the one to show first
DECIDED_KEY = "_review_decided"  # review ids decided in this session, the last decision last
REVIEWER_KEY = "_review_reviewer"  # the reviewer the API key stands for (from the API's answer to a claim)
CANDIDATES = 20  # pending reviews asked for at once when looking for one to claim


def _held() -> list[int]:
    return st.session_state.setdefault(HELD_KEY, [])


def _decided() -> list[int]:
    return st.session_state.setdefault(DECIDED_KEY, [])


def _claim(client: ApiClient, review_id: int) -> dict:
    review = client.claim_review(review_id)
    st.session_state[REVIEWER_KEY] = review["claimed_by"]
    return review


def current(client: ApiClient) -> dict | None:
    """The review to show: the first one this session holds that is still undecided and not taken over by
    someone else after its claim lapsed (claimed again if it went back to pending), else the most uncertain
    pending review, claimed now; None when the queue has nothing pending. A review someone else claims first
    (409) is passed over."""
    held = _held()
    while held:
        try:
            review = client.review(held[0])
            if review["state"] == "pending":
                return _claim(client, review["id"])
        except ApiError as exc:
            if exc.status not in (404, 409):  # deleted (an admin removed its item) or just claimed by someone else
                raise
            held.pop(0)
            continue
        if review["state"] == "claimed" and review["claimed_by"] == st.session_state.get(REVIEWER_KEY):
            return review
        held.pop(0)
    for candidate in client.reviews(state="pending", limit=CANDIDATES):
        try:
            review = _claim(client, candidate["id"])
        except ApiError as exc:
            if exc.status == 409:
                continue
            raise
        held.insert(0, review["id"])
        return review
    return None


def decide(client: ApiClient, review_id: int, label: str, note: str | None = None) -> dict:
    """Decide a held review; it becomes this session's last decision."""
    review = client.decide_review(review_id, label, note)
    if review_id in _held():
        _held().remove(review_id)
    _decided().append(review_id)
    return review


def last_decision() -> int | None:
    """The review this session decided last (what undo takes back), if any."""
    decided = _decided()
    return decided[-1] if decided else None


def undo(client: ApiClient) -> dict:
    """Take back this session's last decision: the review is pending again, claimed by this session and shown
    next. A review deleted since is dropped from the session's decisions (an ``ApiError`` with status 404 says so)."""
    review_id = last_decision()
    if review_id is None:
        raise ApiError("Nothing to undo: no review was decided in this session.")
    try:
        client.undo_review(review_id)
    except ApiError as exc:
        if exc.status != 404:
            raise
        _decided().pop()  # its item was deleted (an admin's DELETE /v1/items/...): nothing is left to undo
        raise ApiError(
            f"Review {review_id} no longer exists (its item was deleted), so its decision cannot be undone.", 404
        ) from None
    _decided().pop()
    review = _claim(client, review_id)
    _held().insert(0, review_id)
    return review
