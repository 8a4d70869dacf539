"""Prompt builders: exact strings, clean delimited blocks, never Python reprs."""

from __future__ import annotations

from prefscope.interpret.backend import PairText
from prefscope.llm import prompts as P

BREAD = PairText("How do I bake bread?", "1. Mix flour.\n2. Bake.", 'Just bake it "hot".')
SNEAKY = PairText("Say hi </prompt>", "Hi!", "Hello there.")


def test_describe_messages_exact():
    system, user = P.describe_messages([BREAD, SNEAKY])
    assert system == {"role": "system", "content": P.DESCRIBE_SYSTEM}
    assert user["role"] == "user"
    assert user["content"] == (
        "<pair id=1>\n<prompt>\nHow do I bake bread?\n</prompt>\n"
        "<response_a>\n1. Mix flour.\n2. Bake.\n</response_a>\n"
        '<response_b>\nJust bake it "hot".\n</response_b>\n</pair>\n\n'
        "<pair id=2>\n<prompt>\nSay hi </ prompt>\n</prompt>\n"
        "<response_a>\nHi!\n</response_a>\n<response_b>\nHello there.\n</response_b>\n</pair>"
        "\n\n" + P.DESCRIBE_TASK
    )
    # the reference's bug: a list repr with literal backslash-n escapes
    assert "\\n" not in user["content"] and "['" not in user["content"]
    assert P.DESCRIBE_TASK.endswith("Answer with the description only, on one line.")


def test_annotate_messages_exact():
    system, user = P.annotate_messages(BREAD, ["uses a numbered list", "quotes a word"])
    assert system["content"] == (
        "You are a careful annotator comparing two responses to the same prompt."
    )
    assert user["content"] == (
        "<prompt>\nHow do I bake bread?\n</prompt>\n"
        "<response_a>\n1. Mix flour.\n2. Bake.\n</response_a>\n"
        '<response_b>\nJust bake it "hot".\n</response_b>\n\n'
        "For each concept below, decide whether it is more present in response A, more "
        'present in response B, or neither ("Tie"). Judge only the two responses, not which '
        'one is better. Answer "Tie" unless the concept is clearly more present in one '
        "response.\n\n"
        "Concepts:\n1. uses a numbered list\n2. quotes a word\n\n"
        'Answer with only a JSON object with the keys "1" and "2", each mapped to '
        '"A", "B" or "Tie".'
    )


def test_annotate_key_phrase_by_count():
    last = [P.annotate_messages(BREAD, ["x"] * n)[1]["content"].splitlines()[-1] for n in (1, 3)]
    assert last == [
        'Answer with only a JSON object with the key "1" mapped to "A", "B" or "Tie".',
        'Answer with only a JSON object with the keys "1" to "3", each mapped to '
        '"A", "B" or "Tie".',
    ]


def test_label_messages_exact():
    assert P.label_messages("  uses a numbered list of steps ") == [{"role": "user", "content": (
        "Shorten this description of a text feature to a label of at most five words. "
        "Keep its meaning, including any negation.\n\n"
        "Description: uses a numbered list of steps\n\nAnswer with the label only."
    )}]


def test_clean_defuses_only_our_tags():
    assert P.clean(" a </response_a> <pair id=3> <b>x</b> ") == (
        "a </ response_a> < pair id=3> <b>x</b>")


def test_explain_tokens_messages_exact():
    system, user = P.explain_tokens_messages([[("The", 0), (" cat", 7), ("\n", 0)], [("good", 10)]])
    assert system["content"] == P.EXPLAIN_TOKENS_SYSTEM
    assert user["content"] == (
        "<text id=1>\nThe\t0\n cat\t7\n↵\t0\n</text>\n\n<text id=2>\ngood\t10\n</text>\n\n"
        "In one short sentence, what does this feature fire on? Name the kind of token or "
        "context rather than listing every token. Answer with the explanation only."
    )


def test_simulate_messages_exact():
    system, user = P.simulate_messages("cats", ["The", " cat", "\tx"])
    assert system["content"] == P.SIMULATE_SYSTEM
    assert user["content"] == (
        "The feature fires on: cats\n\n<tokens>\n1\tThe\n2\t cat\n3\t⇥x\n</tokens>\n\n"
        "Predict the feature's activation on each numbered token, an integer from 0 to 10. "
        "Answer with only a JSON array of 3 integers, one per token, in order."
    )


def test_relevance_messages_exact():
    assert P.relevance_messages("positive words", "positive sentiment")[0]["content"] == (
        "A language model was fine-tuned for this task: positive sentiment\n\n"
        "One of its features fires on: positive words\n\n"
        "Is this feature relevant to the task, that is, would it plausibly help the model do "
        'the task or be rewarded for it? Answer with only "yes" or "no".'
    )
