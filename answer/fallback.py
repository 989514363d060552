"""Answers without a language model: quote the passages' sentences that answer, or say
what the documents do not give.

The engine calls this when no model is configured (``extractive``), when the model fails
or refuses while a passage clearly answers, and when the model's text does not survive the
checker or does not hold what was asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from answer import decision
from answer.evidence import Evidence, Sentence
from answer.facts import PassageFacts, number_tokens, number_variants, overlap
from answer.prompts import (
    EXTRACTIVE_LEAD,
    NEAREST_FACTS,
    NEAREST_TWO,
    NOT_GIVEN,
    NOT_IN_DOCUMENTS,
    NOT_SURE,
)
from answer.question import Question
from ingest.text import ends_as_sentence, is_label, is_list_item

NAME = "extractive"  # the ``generator`` of an answer quoted from the passages

# Below this weighted share of the question's terms, no sentence answers the question.
# Seed questions (16, the first calibration): answerable ones reach >= 0.5, "annual budget
# of the Mission" stays under 0.4. Re-measured on the seed dev half: see SUBJECT_MIN.
MIN_COVERAGE = 0.5
# A value of the asked kind (an amount, a date, a name…) answers only when the sentence
# holding it is about the question's subject: this share of the subject's terms (weighted
# by rarity; a term found elsewhere in the passage counts half). Calibrated on the seed
# dev half (evaluation/data/seed-dev.jsonl); held-out score in README/docs/answer.md.
SUBJECT_MIN = 0.3
MAX_SENTENCES = 3
QUOTE_RATIO = 0.75  # without a fitted decision: quote sentences scoring this share of the best
MAX_CHARS = 480
MAX_CONTINUATIONS = 3  # sentences that may follow the best one (it announces, they detail)
# Items of a list quoted after the line that introduces it: a bound (the list also has
# MAX_CHARS of its own), not fitted. List quoting moved no score on the seed dev half
# (extractive, 179 turns: the decision refuses most list questions before it) nor on the
# test half (held out, 175 turns: key recall FR 40.9 % / EN 28.6 % with the refit).
MAX_LIST_ITEMS = 12
# An answer written from the quote to a question that asks for no value (a reason, a
# definition, a list) keeps at least this share of the best quoted sentence's content stems
# and numbers: the model answers from that sentence, not from another one, and drops little.
# Chosen on the dev halves (seed dev 179 turns + PIAF dev 150, recordings replayed, the new
# model calls live): 0.4 made one right PIAF answer wrong (a dropped span), 0.6 and 0.8 tie
# (4 more answers in the model's words, no outcome changed); the stricter one kept. Held
# out (seed test 175 turns, PIAF test 150): model-written 65.6 -> 68.8 % and 51 -> 54 %,
# no outcome changed. Words of one language: passages in the question's own language only.
KEEPS_SHARE = 0.8
# A refusal shows the sentence the decision ranks most probable (``nearest_sentences``).
# When that sentence reaches this probability and may answer (``may_answer``), the refusal
# says it found no certain answer (``NOT_SURE``) instead of "the documents do not give
# this": said of an answerable question, that claim is false. Chosen on the dev refusals
# of the decision data (``python -m evaluation.calibrate_lead``: 768 refused dev questions
# of seed dev, PIAF dev and its near-miss corpus), cost = "do not give" said of an
# answerable question + "not sure" said of an unanswerable one. Dev cost 253 (0.05: 256,
# 0.2: 284, always "not given": 544). Held out (1,038 refused test questions, 790
# answerable): cost 262 against 790; the reply (two sentences when unsure) shows the answer
# of 470 of the 790, against 303 with the sentence of best score shown before. Details in
# docs/answer.md ("Refusal leads").
UNSURE_P = 0.1


@dataclass
class Quoted:
    """A reply built from the passages: an answer, or a "not given" with the nearest facts."""

    text: str
    answerable: bool


def answer(
    evidence: Evidence,
    question: Question,
    ranked: decision.Ranked | None = None,
    picked: list[Sentence] | None = None,
) -> Quoted:
    """Cited quotes that answer ``question``, else the documents' "not given" reply.
    ``ranked``: the sentences with their probability of answering (``answer/decision.py``);
    without it, the coverage rules below decide. ``picked``: ``pick``'s result when the
    caller already has it."""
    if picked is None:
        picked = pick(evidence, question, ranked)
    # "qui préside …" is not answered by a quote naming no president. Checked here, not in
    # ``pick``: the engine still asks the model, which may find the sentence that does.
    if picked and question.names_position(" ".join(s.text for s in picked)):
        return Quoted(_quote(picked, question), True)
    return not_given(evidence, question, ranked)


def keeps_quote(question: Question, picked: list[Sentence], answer: str) -> bool:
    """An answer written from the quoted sentences ``picked`` keeps what the quote gives:
    for a question asking for a value (an amount, a date, a name…), every value of that
    kind that the best sentence holds (a value with digits may be written in other words:
    "juin 2000", "June 2000"); for any other question, most of the best sentence's words
    (``KEEPS_SHARE``). Session 16, on the dev halves (seed dev 179 turns, PIAF dev 150,
    replayed): answers to reasons and definitions kept unchecked made 2 right PIAF answers
    wrong (another sentence, a dropped span), and keeping one value of several a third
    (« le premier Premier ministre … était Benazir Bhutto »); with the value rule no dev
    outcome changed. Held out (replayed): seed test (175 turns) model-written 58.7 -> 67.7 %,
    answered wrongly 10.3 -> 9.7 %; PIAF test (150) no outcome changed."""
    if not picked:
        return False
    if not question.wants_item:  # a reason, a definition, a list: the best sentence's words
        return overlap(picked[0].text, PassageFacts.of([answer])) >= KEEPS_SHARE
    written = question.new_values(answer)
    numbers = PassageFacts.of([answer]).numbers  # the checker's comparable number forms
    for value in question.new_values(picked[0].text):
        tokens = number_tokens(value)
        if value not in written and not (
            tokens and all(number_variants(t) & numbers for t in tokens)
        ):
            return False
    return True


def not_given(
    evidence: Evidence, question: Question, ranked: decision.Ranked | None = None
) -> Quoted:
    """ "The documents do not give this …; the nearest passage says: … [n]" (not an answer),
    or "I found no certain answer; the nearest passages say: … [n] … [m]" when the most
    probable sentence may well answer (``UNSURE_P``): then the next one is shown too."""
    lang = question.language
    lead = NOT_GIVEN[lang].get(question.asked, NOT_IN_DOCUMENTS[lang])
    nearest = nearest_sentences(evidence, ranked)
    if not nearest:
        return Quoted(lead, False)
    # a label or a name line ("Catherine Bertram") is shown with the line it heads
    p, first = nearest[0]
    shown = [evidence.with_next_line(first)]
    if (p is None or p >= UNSURE_P) and may_answer(question, shown[0], p is not None):
        lead = NOT_SURE[lang]
        for _p, s in nearest[1:]:
            more = evidence.with_next_line(s)
            if not _overlaps(more.text, shown[0].text):
                shown.append(more)
                break
    says = (NEAREST_FACTS if len(shown) == 1 else NEAREST_TWO)[lang]
    quotes = " ".join(f"{_sentence(s.text)} [{s.n}]." for s in shown)
    return Quoted(f"{lead} {says} {quotes}", False)


def nearest_sentences(
    evidence: Evidence, ranked: decision.Ranked | None
) -> list[tuple[float | None, Sentence]]:
    """The sentences a refusal may show, with their decision probability, most probable
    first: those sharing a term with the question (``decision.rank``), else (no fitted
    decision) the one of best score alone."""
    if ranked:
        return [(p, s) for p, s in ranked if s.coverage > 0]
    best = evidence.best()
    return [(None, best)] if best is not None and best.coverage > 0 else []


def may_answer(question: Question, shown: Sentence, ranked: bool) -> bool:
    """The shown sentence may answer: it holds a value of the asked kind (for a position,
    a name with that position), or the question asks for no value and a decision ranked
    it. Then "the documents do not give …" could be false."""
    if question.wants_item:
        return bool(question.new_values(shown.text)) and question.names_position(shown.text)
    return ranked


def about_subject(s: Sentence, evidence: Evidence) -> bool:
    """The sentence is about the question's subject. Across languages (an English question
    over French passages, no French rewrite) the terms cannot tell: retrieval decides."""
    return s.subject >= SUBJECT_MIN or not evidence.same_language


def pick(
    evidence: Evidence, question: Question, ranked: decision.Ranked | None = None
) -> list[Sentence]:
    """The supporting sentences, best first (empty when none answers)."""
    fitted = decision.model()
    if ranked is not None and fitted is not None:
        # the best sentence must reach the threshold and, when the question asks for a value
        # (an amount, a date, a name…), hold one; the next ones come within the ratio
        probability = {(s.n, s.index): p for p, s in ranked}
        best = decision.first_answering(ranked, evidence, question)
        pool = [s for _p, s in ranked]
        ratio = fitted.quote_ratio

        def key(s: Sentence) -> float:
            return probability[(s.n, s.index)]
    else:
        pool, best = _covered(evidence, question)
        ratio = QUOTE_RATIO

        def key(s: Sentence) -> float:
            return s.score
    if best is None:
        return []
    picked = [best]
    used = len(best.text)
    # a line a structural rule chose (a contact block, a closing date, a ceiling;
    # ``decision.Ranked.ruled``) is quoted with its own continuation lines only: the other
    # probable sentences are those the rule overruled
    ruled = ranked is not None and ranked.ruled is best
    for s in [] if ruled else sorted(pool, key=lambda s: -key(s)):
        if len(picked) >= MAX_SENTENCES:
            break
        if s is best or s.coverage <= 0 or any(_overlaps(s.text, p.text) for p in picked):
            continue
        if not evidence.same_language and len(picked) >= 2:
            break
        if key(s) >= ratio * key(best) and used + len(s.text) <= MAX_CHARS:
            picked.append(s)
            used += len(s.text)
    anchor = best
    for _ in range(MAX_CONTINUATIONS):
        follow = _continuation(evidence, anchor, picked)
        if follow is None or used + len(follow.text) > 2 * MAX_CHARS:
            break
        picked.insert(picked.index(anchor) + 1, follow)
        used += len(follow.text)
        anchor = follow
    heading = _list_heading(evidence, question, key) if question.asked == "list" else None
    if heading is not None and heading not in picked:
        picked.append(heading)
        anchor = heading
    announces = anchor.text.rstrip().endswith(":") and not question.wants_item
    if heading is not None or announces:
        # the list the quoted sentence (or its heading) introduces is the answer itself
        budget = used + MAX_CHARS  # the list has a budget of its own
        for item in _list_after(evidence, anchor):
            if used + len(item.text) > budget:
                break
            if item in picked:
                picked.remove(item)
            picked.insert(picked.index(anchor) + 1, item)
            used += len(item.text)
            anchor = item
    out: list[Sentence] = []
    for s in (evidence.with_next_line(s) for s in picked):
        # a label joined with its next line repeats that line: keep one of the two
        if not any(_sentence(s.text) in o.text or _sentence(o.text) in s.text for o in out):
            out.append(s)
    return out


def _covered(evidence: Evidence, question: Question) -> tuple[list[Sentence], Sentence | None]:
    """Without a fitted decision: the sentences holding the asked value about the subject
    (any sentence for reasons and lists), and the best one if it covers enough."""
    pool = evidence.sentences
    if question.wants_item:
        pool = [s for s in pool if about_subject(s, evidence) and question.new_values(s.text)]
        labelled = _labelled(evidence, question)
        pool += [s for s in labelled if s not in pool]
    best = max(pool, key=lambda s: s.score, default=None)
    if best is None:
        return pool, None
    # Across languages few words match (only names and shared roots): any match will do,
    # the retrieval ranking does the rest.
    floor = MIN_COVERAGE if evidence.same_language else 0.0
    if best.coverage <= floor or (evidence.same_language and best.coverage < MIN_COVERAGE):
        return pool, None
    return pool, best


def _labelled(evidence: Evidence, question: Question) -> list[Sentence]:
    """Label lines about the subject whose value is on the next line ("Tel :" then the
    number, "Directrice" then the name): the label is the sentence to quote."""
    out = []
    for s in evidence.sentences:
        if not about_subject(s, evidence) or not is_label(s.text):
            continue
        nxt = evidence.following(s)
        if nxt is not None and nxt.n == s.n and question.new_values(nxt.text):
            out.append(s)
    return out


def _continuation(evidence: Evidence, best: Sentence, picked: list[Sentence]) -> Sentence | None:
    """The sentence after the best one when it carries the facts the topic sentence
    announces ("… programme « Mosaïques »." then "9 sites brésiliens ont été identifiés.",
    a project then its web address): it matches the question or holds a number or URL."""
    anchor = best
    if is_label(best.text):  # a label: it is read with its next line
        anchor = evidence.following(best) or best
    nxt = evidence.following(anchor)
    if nxt is None or any(_overlaps(nxt.text, p.text) for p in picked):
        return None
    if nxt.text.lstrip().startswith(("#", "---", "***", "___")):
        return None  # a heading or a rule starts another section (a page footer)
    if not ends_as_sentence(anchor.text) and not evidence.in_paragraph_of(anchor, nxt):
        # a line (a contact block's "Tél. : …", an address) does not run on into the next
        # paragraph, which makes claims of its own; a sentence may (« Cet accord … » goes on)
        return None
    has_value = bool(re.search(r"\d|www\.|https?://", nxt.text))
    return nxt if nxt.coverage > 0 or has_value else None


def _list_heading(evidence: Evidence, question: Question, key) -> Sentence | None:
    """For a list question: the most probable heading or announcing line ("Partenaires",
    "L'accord concerne :") that holds a question term and is followed by list items."""
    heads = [
        s
        for s in evidence.sentences
        if s.coverage > 0
        and not is_list_item(s.text)
        and (is_label(s.text) or s.text.rstrip().endswith(":"))
        and _list_after(evidence, s)
    ]
    return max(heads, key=key, default=None)


def _list_after(evidence: Evidence, s: Sentence) -> list[Sentence]:
    """The list items that directly follow ``s`` (or follow its label line) in its document."""
    items_: list[Sentence] = []
    nxt = evidence.following(s)
    if nxt is not None and not is_list_item(nxt.text) and is_label(s.text):
        nxt = evidence.following(nxt)  # a heading read with its first line
    while nxt is not None and is_list_item(nxt.text) and len(items_) < MAX_LIST_ITEMS:
        items_.append(nxt)
        nxt = evidence.following(nxt)
    return items_


def _overlaps(a: str, b: str) -> bool:
    """Same sentence seen twice (overlapping chunks cut it at different places)."""
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match()
    return match.size >= 0.6 * min(len(a), len(b))


def _quote(picked: list[Sentence], question: Question) -> str:
    lead = EXTRACTIVE_LEAD[question.language]
    # list items one per line, each with its own citation
    parts = []
    for s, nxt in zip(picked, [*picked[1:], None], strict=True):
        if is_list_item(s.text):
            parts.append(f"\n{_sentence(s.text)} [{s.n}].")
        elif nxt is not None and is_list_item(nxt.text):  # the list's heading, on its own line
            parts.append(f"\n{_sentence(s.text)} [{s.n}] :")
        else:
            parts.append(f" {_sentence(s.text)} [{s.n}].")
    return lead + "".join(parts).lstrip()


def _sentence(text: str) -> str:
    """The sentence without its final punctuation (the citation goes before the dot)."""
    return text.strip().rstrip(" .:;,")
