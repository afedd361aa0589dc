"""`replay.targets: self` on a model whose answers are known: the tiny model answers " 42" to
every question, so the task's scorer accepts its answer where the stored response's answer is
42 and rejects it elsewhere; accepted answers replace the stored targets in replay, rejected
ones keep theirs or leave the buffer."""

from __future__ import annotations

import numpy as np
import pytest
from answering_model import ANSWER, questions

from mssr.data.formatting import encode_example
from mssr.data.loaders import TaskData
from mssr.data.schema import Example
from mssr.engine.tasks import ID_STRIDE, PreparedTask, encode_answer, examples_of, lookup
from mssr.errors import ConfigError
from mssr.evaluation.scorers import answer_examples
from mssr.replay.config import ReplayConfig
from mssr.replay.driver import ReplayDriver, TaskAnswers

MAX_LENGTH = 64


def worked(count: int) -> list[Example]:
    """Worked answers: 6 x 7 = 42 on even rows (the model's " 42" is right), 17 on odd ones."""
    return [Example(prompt=prompt, response=f"6 * 7 = {42 if row % 2 == 0 else 17}")
            for row, prompt in enumerate(questions(count))]


def test_each_answer_is_judged_by_the_tasks_scorer(answering_model, eval_tokenizer):
    answers = answer_examples(answering_model, eval_tokenizer, worked(6), "numeric",
                              batch_size=4, max_length=MAX_LENGTH)
    assert [text.strip() for text in answers.texts] == [ANSWER] * 6
    assert answers.accepted == [True, False] * 3
    assert answers.tokens > 0
    exact = answer_examples(answering_model, eval_tokenizer, worked(2), "exact_match")
    assert exact.accepted == [False, False]  # "42" is not "6 * 7 = 42" word for word


def test_multiple_choice_generates_nothing_and_loss_cannot_judge(answering_model,
                                                                 eval_tokenizer):
    choice = [Example(prompt=q, response="42", choices=("42", "17"), answer=0)
              for q in questions(3)]
    answers = answer_examples(answering_model, eval_tokenizer, choice, "multiple_choice")
    assert (answers.texts, answers.accepted, answers.tokens) == ([None] * 3, [False] * 3, 0)
    with pytest.raises(ConfigError, match="'loss' cannot judge"):
        answer_examples(answering_model, eval_tokenizer, worked(2), "loss")


@pytest.mark.parametrize("rejected", ["stored", "drop"])
def test_accepted_answers_replace_the_stored_targets_in_replay(answering_model, eval_tokenizer,
                                                               rejected):
    """Two tasks of worked answers through the replay driver, the model answering at the end
    of the first: replay trains on " 42" where it was accepted and on the stored answer (or
    never again) where it was not."""
    tasks = []
    for index in range(2):
        train = worked(16)
        data = TaskData(name=f"task{index}", train=train, eval=train[:2], scorer="numeric",
                        format="prompt_response", skipped_lines=0)
        tasks.append(PreparedTask(index, data, [encode_example(example, eval_tokenizer,
                                                               MAX_LENGTH) for example in train]))
    replay = ReplayConfig(strategy="uniform", targets="self", targets_rejected=rejected)
    replay.buffer.per_task = 8
    driver = ReplayDriver(replay, None, [task.ids for task in tasks], 4, 4, seed=0)

    def answer(ids: np.ndarray) -> TaskAnswers:
        answers = answer_examples(answering_model, eval_tokenizer, examples_of(tasks, ids),
                                  "numeric", max_length=MAX_LENGTH)
        return TaskAnswers(answers.texts, answers.accepted, answers.tokens)

    replaced, replayed = {}, []
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        examples = lookup(tasks, plan.ids, replaced)
        replayed += list(zip(plan.ids[plan.current_count:], examples[plan.current_count:],
                             strict=True))
        driver.finish_step(plan, [len(e.input_ids) for e in examples], plan.ids,
                           np.full(len(plan.ids), 0.5))
        if driver.task_done:
            driver.end_task([0.0, 0.0], answer=answer)
            replaced = {i: encode_answer(tasks, i, text, eval_tokenizer, MAX_LENGTH)
                        for i, text in driver.targets().items()}

    right = {int(i) for i in tasks[0].ids if i % ID_STRIDE % 2 == 0}
    first = driver.progress.replay_targets[0]
    assert set(driver.targets()) == right & set(driver.strategy.buffer_ids.tolist())
    assert first["accepted"] == len(driver.targets()) > 0
    assert first["dropped"] == (8 - first["accepted"] if rejected == "drop" else 0)
    assert replayed and all(int(i) // ID_STRIDE == 0 for i, _ in replayed)
    for example_id, example in replayed:
        stored = tasks[0].encoded[int(example_id)]
        text = eval_tokenizer.decode(example.input_ids, skip_special_tokens=True)
        if int(example_id) in right:
            assert text.endswith(f"Answer: {ANSWER}") and example != stored
        else:
            assert rejected == "stored" and example == stored  # dropped ids are never replayed
