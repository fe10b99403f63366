"""Every celebration, reflection prompt and milestone line, in one place. Add to the lists
freely: the code picks from whatever is here."""

from __future__ import annotations

import hashlib
import math

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
COMMITMENT_CHEERS: tuple[str, ...] = (  # the first promises no follow-up (reminders off)
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
    stride = next(s for s in range(1 + seed % n, 1 + seed % n + n) if math.gcd(s, n) == 1)
    return REFLECTIONS[(seed + seq * stride) % n]


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


def promises_word(n: int) -> str:
    return f"{n} promise" if n == 1 else f"{n} promises"


def yes_word(n: int) -> str:
    return f"{n} yes" if n == 1 else f"{n} yeses"


# -- check-ins, recaps and follow-ups (the scheduler's posts) ---------------------------------

CHECKIN_BUSY: tuple[str, ...] = (
    "Every one of those took a little nerve. Thank you for asking.",
    "That's a lot of courage in one channel. Who's adding to it today?",
    "Asks made, answers collected, lessons banked. Lovely work, everyone.",
    "Yes or no, each of those counts the same here: you showed up and asked.",
)
CHECKIN_QUIET: tuple[str, ...] = (
    "It was a quiet one, and that's fine: rest is part of the practice too.",
    "No asks logged, which just means today's first one gets the spotlight.",
    "A calm stretch. Today is a fresh page, and it only takes one small ask to start.",
    "Quiet days happen to everyone. The next ask is still right there, waiting for you.",
)
CHECKIN_INVITES: tuple[str, ...] = (
    "Who's next? Make one ask today, big or small, and log it here.",
    "What's one thing you could ask for today? A no counts just as much as a yes.",
    "Today's challenge: one ask that makes you a little nervous. Who's in?",
    "Some will, some won't, so what. Who's asking today?",
)
CHECKIN_HOW_TO = ("Log an ask with /rejected, /accepted or /pending, "
                  "or promise one with /who-next.")
CHECKIN_OPEN_NOTE = ("However they went, they're worth logging: a no counts as much as a yes. "
                     "Resolve them from /asks.")
RECAP_QUIET = ("A quiet week on the asking front. That's okay: a new week starts now, "
               "and the first ask is the hardest. Who's going first?")
RECAP_NO_FEAR = ("Add fear:0-10 when you log an ask, and next week's bravest one gets a "
                 "shout-out here.")
FOLLOWUP_HEADING = "How did your ask go?"
FOLLOWUP_NOTE = ("Whatever happened, it counts: a no scores exactly like a yes. Didn't get to "
                 "it? No problem, press Didn't ask, and there's always a next ask.")


def checkin_milestone(count: int, kind: str) -> str:
    """A short shout-out line: 'reached 10 asks', 'collected their first no'."""
    if kind == "yes":
        return "got their first yes"
    if count == 1:
        return "logged their first ask" if kind == "attempts" else "collected their first no"
    return f"reached {attempts_word(count)}" if kind == "attempts" else \
        f"collected {rejections_word(count)}"


def week_compare(this: int, last: int) -> str:
    """This week's asks against last week's, never scolding."""
    if last == 0 and this == 0:
        return ""
    if last == 0:
        return "Up from a quiet week before. Lovely to see."
    if this > last:
        return f"That's {this - last} more than last week ({last}). The group is warming up!"
    if this == last:
        return f"The same as last week ({last}): steady and strong."
    return f"A lighter week than the one before ({last}). Every single ask still counts."


def goal_reached(target: int) -> str:
    return (f"Goal reached: {rejections_word(target)}! You set out to collect them and you did. "
            "Set the next one with /goal.")
