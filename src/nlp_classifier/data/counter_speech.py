"""Training signal for counter-speech: hateful training texts quoted inside a frame that condemns, rejects or
reports them (not hateful), and, as the contrast, inside a frame that endorses them (still hateful).

The collected data has almost no counter-speech, so a model learns that hateful words make a hateful text
whatever surrounds them, and flags people who quote hate to condemn it or deny it. A framed copy keeps the hateful
words and flips the label; an endorsing copy keeps the label, so that neither quotation marks nor a frame on its
own predicts the label: what the frame says about the quote does.

The frames were written for this module: they do not reuse the wording of the behavioural suite's templates
(data/behaviour/templates.yaml), which measure the result. Only training splits get framed copies.
"""

from __future__ import annotations

import numpy as np

from ..tasks import MULTI_LABEL
from .augment import with_copies
from .datasets import Dataset

# ``{q}`` is the hateful text, as it was written.
CONDEMNING_FRAMES = (
    'Just got a message saying "{q}". Blocked and reported.',
    'Reported this comment: "{q}". People who post things like that are the problem.',
    '"{q}" - this is what hate looks like, and it has no place here.',
    'Can we talk about how awful it is that someone posted "{q}"?',
    'I am sick of seeing "{q}" in my replies. Hate like this hurts real people.',
    'Whoever wrote "{q}" should be banned from this platform.',
    'My coworker said "{q}" today and I told HR. That kind of talk is not okay.',
    'Hate speech example from the thread: "{q}". We removed it and banned the account.',
    'There is nothing funny or brave about writing "{q}".',
    'Screenshotting this so people see the bigotry out there: "{q}"',
    'The post "{q}" was taken down, and rightly so.',
    'It hurt to read "{q}". Nobody deserves to be talked about like that.',
    'Stop defending comments like "{q}". They are hateful, full stop.',
    'A stranger yelled "{q}" at my friend. I am still shaking with anger.',
    'This account keeps posting stuff like "{q}". Please report it.',
    'Moderators, please remove this: "{q}"',
    'Lies like "{q}" are how hatred spreads. Do not share them.',
    'That claim, "{q}", is false and cruel.',
    'I will not stay quiet when people say "{q}".',
    'Racists and bigots love lines like "{q}". Do not let them win.',
)
ENDORSING_FRAMES = (
    'Finally someone said it: "{q}"',
    '"{q}" - couldn\'t agree more.',
    "Not being funny, but {q}",
    'This. "{q}" Share it everywhere.',
    "Say it louder: {q}",
    'My grandad always said "{q}" and he was right.',
    "Retweet if you agree: {q}",
    "Truth nobody wants to hear: {q}",
)
MAX_WORDS = 20  # longer quotes push the frame past the model's window


def frame(text: str, frames: tuple[str, ...], rng: np.random.Generator) -> str:
    """``text`` quoted inside one of ``frames``, drawn with ``rng``; its own double quotes become single ones."""
    template = frames[int(rng.integers(len(frames)))]
    return template.replace("{q}", text.strip().replace('"', "'"))


def counter_speech(train: Dataset, share: float, seed: int) -> Dataset:
    """``train`` plus, for a seeded ``share`` of its hateful texts (class 1 of a single-label task) of at most
    ``MAX_WORDS`` words, a copy quoted in a condemning frame labelled not hateful (class 0), and for half of those
    an endorsing copy that stays hateful; same source. ``share`` 0, or a multi-label task, returns ``train``."""
    if share <= 0 or train.problem_type == MULTI_LABEL:
        return train
    rng = np.random.default_rng(seed)
    texts, rows, labels = [], [], []
    for i in np.flatnonzero(train.y == 1):
        text = train.texts[i]
        if len(text.split()) > MAX_WORDS or rng.random() >= share:
            continue
        texts.append(frame(text, CONDEMNING_FRAMES, rng))
        rows.append(int(i))
        labels.append(0)
        if rng.random() < 0.5:
            texts.append(frame(text, ENDORSING_FRAMES, rng))
            rows.append(int(i))
            labels.append(1)
    return with_copies(train, rows, texts, "counter", labels=labels)
