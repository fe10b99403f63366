"""Every celebration, reflection prompt and milestone line, in one place. Add to the lists
freely: the code picks from whatever is here."""

from __future__ import annotations

import hashlib

# One reflection prompt follows each logged rejection. Our own words, after the ideas in
# PRODUCT.md: learn, widen, change the approach, stay in touch, notice, keep counting.
REFLECTIONS: tuple[str, ...] = (
    "Jot down ten small things that would make your offer better next time.",
    "Who else could say yes to this? Name three people you haven't asked yet.",
    "Could you lead with something useful for them before you ask again?",
    "Same goal, different road: is there another way to get there?",
    "Did you ask as yourself? What would the most honest version of that ask sound like?",
    "Curious why it was a no? Asking them is an ask too, and a brave one.",
    "How did the no feel in your body? Notice it, name it, then let it go.",
    "Most asks end in no. Now count one yes from this month, too.",
    "Keep the door open: could you send them a short update in a few weeks?",
    "Treat it as an experiment: what did this one teach you, whatever the answer?",
    "Feel it, think it through, then pick your next move.",
    "Why this ask, why now, why you? Being curious beats being right.",
    "Is there someone you trust who could give you feedback on how you asked?",
    "Don't keep every egg in one basket: what's a second ask in a different place?",
    "Take one breath, then go find your next ask.",
)

REJECTED_CHEERS: tuple[str, ...] = (
    "That's a no, and that's a win: you asked!",
    "Asked, heard no, still standing. That's the practice.",
    "Another no in the bag. Every one makes the next ask easier.",
    "You made the ask. The answer was theirs; the courage was yours.",
)
ACCEPTED_CHEERS: tuple[str, ...] = (
    "A yes! It counts exactly like a no: you asked.",
    "They said yes. Enjoy it, then keep asking.",
    "Yes! That's what happens when you keep asking.",
)
PENDING_CHEERS: tuple[str, ...] = (
    "Ask made, answer on its way. The asking was the brave part.",
    "Out there now. Whatever comes back, you already did the hard bit.",
)
COMMITMENT_CHEERS: tuple[str, ...] = (
    "Promise noted. Future you is going to be glad you asked.",
    "On the list! I'll check in when it's due.",
)
SLOGAN = "Some will, some won't, so what. Who's next?"

ATTEMPT_MILESTONES = (1, 10, 25, 40, 50, 100, 250, 500, 1000)
REJECTION_MILESTONES = ATTEMPT_MILESTONES


def _seed(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big")


def reflection(member_key: str, seq: int) -> str:
    """The prompt for a member's ``seq``-th rejection ever. Each member walks the list in an
    order of their own, so consecutive rejections never repeat a prompt."""
    n = len(REFLECTIONS)
    # A stride coprime with n gives a member-specific permutation of the whole list.
    seed = _seed(member_key)
    stride = next(s for s in range(1 + seed % n, 1 + seed % n + n) if _gcd(s, n) == 1)
    return REFLECTIONS[(seed + seq * stride) % n]


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def pick(lines: tuple[str, ...], n: int) -> str:
    return lines[n % len(lines)]


def attempt_milestone(count: int) -> str | None:
    if count not in ATTEMPT_MILESTONES:
        return None
    if count == 1:
        return "First ask logged! The hardest one is behind you."
    if count == 40:
        return ("40 asks! This is the one most people never reach. "
                "You kept going where almost everyone stops.")
    return f"{count} asks! That's {count} times you chose courage over comfort."


def rejection_milestone(count: int) -> str | None:
    if count not in REJECTION_MILESTONES:
        return None
    if count == 1:
        return "Your first no! Welcome to the club of people who actually ask."
    if count == 40:
        return ("40 no's! Most people stop long before this. "
                "The 40th is the one that sets you apart.")
    return f"{count} no's collected. Each one is proof you showed up."


FIRST_YES = "Your first yes! Worth remembering how all those no's got you here."


def attempts_word(n: int) -> str:
    return f"{n} ask" if n == 1 else f"{n} asks"


def rejections_word(n: int) -> str:
    return f"{n} no" if n == 1 else f"{n} no's"


def yes_word(n: int) -> str:
    return f"{n} yes" if n == 1 else f"{n} yeses"
