"""The dare deck: suggested asks for /dare, in our own words, each with an area and a level.

Each dare practises one of the ideas the bot is built on (see the product spec): make the
offer better, widen who could say yes, lead with value, ask why it was a no, stay in touch,
change direction without giving up, be more yourself, treat an ask as an experiment, ask for
feedback, don't keep every egg in one basket. Pure data and a pure picker: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.models import CommunityDare

OWN_IDEA = "Your community's own"


@dataclass(frozen=True)
class Dare:
    text: str
    area: str  # one of bot.commands.AREAS
    level: str  # one of bot.commands.DARE_LEVELS
    idea: str  # the idea it practises, shown under the dare


DECK: tuple[Dare, ...] = (
    # work
    Dare("Ask a colleague for ten minutes of honest feedback on something you made this week.",
         "work", "easy", "Ask for feedback"),
    Dare("Ask someone two levels above you what they'd do differently in your role.",
         "work", "medium", "Widen who can say yes"),
    Dare("Ask for a responsibility you want but haven't been given yet.", "work", "hard",
         "Ask for what you want"),
    Dare("Ask the person who last turned down your idea what would have made it a yes.",
         "work", "medium", "Ask why it was a no"),
    Dare("Offer to help a teammate with their hardest task before asking for anything back.",
         "work", "easy", "Lead with value"),
    Dare("Ask to sit in on a meeting you're curious about but not invited to.", "work",
         "medium", "Be curious"),
    Dare("Ask for a raise, or for the exact steps that would earn one.", "work", "hard",
         "Ask for what you want"),
    Dare("Send a short update to someone who said no to you months ago.", "work", "medium",
         "Stay in touch"),
    # money
    Dare("Ask for a discount on something you're buying today. Just ask.", "money", "easy",
         "Treat it as an experiment"),
    Dare("Call a provider you pay every month and ask for a better rate.", "money", "medium",
         "Ask for what you want"),
    Dare("Ask a client or customer what they'd happily pay more for.", "money", "medium",
         "Improve the offer"),
    Dare("Quote a price higher than feels comfortable, and see what happens.", "money", "hard",
         "Treat it as an experiment"),
    Dare("Ask a shop to match a lower price you found elsewhere.", "money", "easy",
         "Ask for what you want"),
    Dare("Ask someone you admire how they negotiated their best deal.", "money", "medium",
         "Learn from others"),
    Dare("Pitch a paid version of something you already do for free.", "money", "hard",
         "Change direction without giving up"),
    # creative
    Dare("Share a rough draft with someone whose taste you trust, and ask what's missing.",
         "creative", "easy", "Ask for feedback"),
    Dare("Submit your work somewhere that will probably say no.", "creative", "hard",
         "Rejection is the normal case"),
    Dare("Ask a creator you follow one specific question about their process.", "creative",
         "easy", "Be curious"),
    Dare("List ten ways your last rejected piece could be better, then ask someone to pick one.",
         "creative", "medium", "Improve the offer"),
    Dare("Offer to make something small for free for someone you'd love to work with.",
         "creative", "medium", "Lead with value"),
    Dare("Ask a venue, gallery or site to show your work.", "creative", "hard",
         "Widen who can say yes"),
    Dare("Ask a collaborator in a different field to start something with you.", "creative",
         "medium", "Don't keep every egg in one basket"),
    # social
    Dare("Ask a stranger for a recommendation: a book, a café, a walk.", "social", "easy",
         "Treat it as an experiment"),
    Dare("Invite someone you'd like to know better for a coffee.", "social", "medium",
         "Widen who can say yes"),
    Dare("Ask an old friend you've drifted from how they're really doing.", "social", "easy",
         "Stay in touch"),
    Dare("Ask someone to introduce you to a person they know and you'd like to meet.",
         "social", "medium", "Widen who can say yes"),
    Dare("Host something small and ask five people to come.", "social", "hard",
         "Rejection is the normal case"),
    Dare("Ask a friend what they think you undersell about yourself.", "social", "medium",
         "Be more yourself"),
    Dare("Ask a neighbour for a small favour, and offer one back.", "social", "easy",
         "Lead with value"),
    # learning
    Dare("Ask an expert for fifteen minutes on a question you can't google.", "learning",
         "medium", "Be curious"),
    Dare("Ask a teacher, coach or mentor for the one thing you should practise next.",
         "learning", "easy", "Ask for feedback"),
    Dare("Ask to join a class, group or course that's already full.", "learning", "medium",
         "Ask for what you want"),
    Dare("Ask someone much younger to teach you a thing they're good at.", "learning", "easy",
         "Be curious"),
    Dare("Apply for a scholarship, grant or programme you think you won't get.", "learning",
         "hard", "Rejection is the normal case"),
    Dare("Ask someone who failed at what you're trying what they learned.", "learning",
         "medium", "Learn from others"),
    # other
    Dare("Ask for something you usually wouldn't: a better table, a later checkout, a seat "
         "upgrade.", "other", "easy", "Treat it as an experiment"),
    Dare("Ask three different people the same favour, not just the one you usually ask.",
         "other", "medium", "Don't keep every egg in one basket"),
    Dare("After your next no, ask: what would it take to make this a yes?", "other", "medium",
         "Ask why it was a no"),
    Dare("Ask a local business if they'd take your idea, product or help.", "other", "hard",
         "Widen who can say yes"),
    Dare("Take a no you got this month and try the same ask a new way.", "other", "hard",
         "Change how you approach"),
    Dare("Ask someone for help with something you've been stuck on alone.", "other", "easy",
         "Take a breath and move"),
    Dare("Notice your next no: write down how it felt, then ask again somewhere else.",
         "other", "medium", "Notice how you react"),
    Dare("Ask for the thing you'd ask for if you were sure they'd say yes.", "other", "hard",
         "Be more yourself"),
)


def community_deck(own: Sequence[CommunityDare]) -> tuple[Dare, ...]:
    """The deck a community draws from: ours, then its own dares."""
    return DECK + tuple(Dare(d.text, d.area, d.level, OWN_IDEA) for d in own)


def matching(deck: Sequence[Dare], area: str | None = None, level: str | None = None
             ) -> list[Dare]:
    """The dares of ``deck`` in ``area`` at ``level`` (either may be None: any)."""
    return [d for d in deck if (area is None or d.area == area)
            and (level is None or d.level == level)]


def draw(choices: Sequence[Dare], seed: int, last: str | None = None) -> Dare | None:
    """One of ``choices``, picked by ``seed``, never the text ``last`` (the member's previous
    dare). None when there is no other."""
    fresh = [d for d in choices if d.text != last]
    return fresh[seed % len(fresh)] if fresh else None


# A step through the deck from one day to the next that is prime to its length for any deck
# under 7,919 dares: every dare comes round before any comes twice, areas mixed.
DAY_STEP = 7919


def of_the_day(deck: Sequence[Dare], day: date) -> Dare:
    """Today's dare for a check-in: the same all day for everyone who draws from ``deck``."""
    return deck[day.toordinal() * DAY_STEP % len(deck)]


_END = re.compile(r"[\s.!?…]+$")


def fold(text: str) -> str:
    """A dare as compared for duplicates: case and spacing folded, the end's punctuation
    dropped."""
    return _END.sub("", " ".join(text.split()).casefold())
