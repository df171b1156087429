"""Which of two voices is the agent, from their first words.

Agents open with a greeting and a service line ("thank you for calling", "how can I
help", "this is Dana speaking") and go on in the language of service ("let me check",
"your account", "is there anything else"); customers ask and tell ("I need", "my order",
"I was told"). Each voice's words are scored; the agent is the voice whose words are
clearly more agent-like. Matching goes through phrases.py, so mishearings and light
fuzziness are tolerated as for every other phrase.
"""

from __future__ import annotations

from coach.analysis.phrases import find_at, tokens

OPENING = (  # said by whoever answers a service line, nearly always in the first turn
    "thank you for calling", "thanks for calling", "how can i help", "how may i help", "how can i assist",
    "how may i assist", "what can i do for you", "you are through to", "you have reached", "* speaking",
    "this is * from", "how can we help", "welcome to",
)
SERVICE = (
    "let me check", "let me look", "let me see", "let me just", "i can help", "i can see", "i can do", "i can offer",
    "i will", "i have", "your account", "your order", "your booking", "your card", "your reference", "your name",
    "can i take", "can i have", "could i have", "may i have", "bear with me", "one moment", "is there anything else",
    "i am sorry to hear", "sorry about that", "i understand", "for you", "we can", "we will", "what i can do",
    "you will get", "you need to", "help you with", "going to help you", "go to", "not a problem", "i have updated", "first unplug", "click",
)
CUSTOMER = (
    "i need", "i want", "i would like", "i am calling", "calling about", "calling because", "i have a problem",
    "my order", "my account", "my package", "my booking", "my flight", "my card", "my bill", "i was told",
    "i bought", "i ordered", "i paid", "it is not working", "it does not work", "it stopped", "can you", "could you",
    "why", "i have been", "i tried", "i am annoyed", "i am worried", "help me", "what do i do", "which",
    "are you still there", "when will", "my name is", "i went", "i got my", "i left",
)
OPENING_WEIGHT = 3.0  # a greeting says more than a service phrase
PRONOUN_WEIGHT = 0.5  # agents talk about "your" order, customers about "my" order
MARGIN = 1.5  # the agent's score must beat the other voice's by this much


def agent_score(text: str) -> float:
    """How much the words sound like the agent's side of a service call (negative: the customer's)."""
    toks = tokens(text)
    opening = len(find_at(toks, OPENING))
    service = len(find_at(toks, SERVICE))
    customer = len(find_at(toks, CUSTOMER))
    pronouns = sum(t == "your" for t in toks) - sum(t == "my" for t in toks)
    return OPENING_WEIGHT * opening + service - customer + PRONOUN_WEIGHT * pronouns


def which_is_agent(texts: list[str]) -> int | None:
    """Index of the agent among two voices' words, or None when the words do not say."""
    scores = [agent_score(t) for t in texts]
    if len(scores) != 2 or abs(scores[0] - scores[1]) < MARGIN:
        return None
    return 0 if scores[0] > scores[1] else 1
