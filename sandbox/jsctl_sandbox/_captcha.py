"""Math captchas like django-simple-captcha's: keys, answers and 180x38 PNG images."""

from __future__ import annotations

import io
import random
import secrets
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from ._clock import Clock

CAPTCHA_TTL = 5 * 60
IMAGE_SIZE = (180, 38)


@dataclass(frozen=True)
class Challenge:
    """One captcha: the expression drawn on the image and its answer."""

    expression: str
    answer: str
    expires_at: float


class CaptchaStore:
    """Issued challenges keyed by their 40-hex key."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._challenges: dict[str, Challenge] = {}

    def new(self) -> str:
        """Issue a new challenge and return its key."""
        a, b = random.randint(1, 9), random.randint(1, 9)
        op = random.choice("+-*")
        if op == "-" and b > a:
            a, b = b, a
        answer = {"+": a + b, "-": a - b, "*": a * b}[op]
        key = secrets.token_hex(20)
        self._challenges[key] = Challenge(
            f"{a}{op}{b}=", str(answer), self.clock.now() + CAPTCHA_TTL
        )
        return key

    def latest_key(self) -> str | None:
        """The newest key issued (tests answer the captcha a client was just shown)."""
        return next(reversed(self._challenges), None)

    def get(self, key: str) -> Challenge | None:
        """The live challenge for ``key``."""
        challenge = self._challenges.get(key)
        if challenge is None or challenge.expires_at < self.clock.now():
            return None
        return challenge

    def check(self, key: str, answer: str) -> bool:
        """Verify and consume a challenge (one attempt per key, like the real thing)."""
        challenge = self.get(key)
        self._challenges.pop(key, None)
        return challenge is not None and answer.strip().lower() == challenge.answer

    def render_png(self, key: str) -> bytes | None:
        """The PNG image of a challenge, or None for an unknown key."""
        challenge = self.get(key)
        if challenge is None:
            return None
        image = Image.new("RGB", IMAGE_SIZE, (255, 255, 255))
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=26)
        rng = random.Random(key)
        for _ in range(6):  # light noise lines
            points = [(rng.randint(0, 180), rng.randint(0, 38)) for _ in range(2)]
            draw.line(points, fill=(170, 170, 170), width=1)
        draw.text((30, 4), challenge.expression, fill=(0, 0, 0), font=font)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
