"""Tiny stand-ins for every hub dataset the ready sequences use, with the real datasets'
column names, nesting and label encodings, written as a data root (`save_to_disk` copies at
DATA_ROOT/hf/NAME/CONFIG), plus the local 5-class Amazon copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mssr.data.hub import HubSpec

ROWS = 12  # per split: enough for a carved eval split and a batch of training examples
SUPERNI_TASKS = [
    "task1572_samsum_summary", "task363_sst2_polarity_classification",
    "task1290_xsum_summarization", "task181_outcome_extraction",
    "task002_quoref_answer_generation", "task1510_evalution_relation_extraction",
    "task639_multi_woz_user_utterance_generation", "task1729_personachat_generate_next",
    "task073_commonsenseqa_answer_generation", "task1590_diplomacy_text_generation",
    "task748_glucose_reverse_cause_event_detection",
    "task511_reddit_tifu_long_text_summarization", "task591_sciq_answer_generation",
    "task1687_sentiment140_classification", "task875_emotion_classification",
    "task999_not_in_the_benchmark"]


def _alpaca(i: int) -> dict[str, Any]:
    extra = f"the list {i}, {i + 1}" if i % 2 else ""
    return {"instruction": f"Sort the numbers in {i}.", "input": extra,
            "output": f"The sorted numbers are {i} and {i + 1}.", "text": "..."}


def _gsm8k(i: int) -> dict[str, Any]:
    return {"question": f"Ann has {i} pens and buys {i + 3}. How many pens?",
            "answer": f"She has {i} + {i + 3} = <<{i}+{i + 3}={2 * i + 3}>>{2 * i + 3} pens.\n"
                      f"#### {2 * i + 3}"}


def _math(i: int) -> dict[str, Any]:
    return {"problem": f"Compute $\\frac{{{i}}}{{2}}$.", "level": f"Level {i % 5 + 1}",
            "type": "Algebra",
            "solution": f"Halving gives $\\boxed{{\\frac{{{i}}}{{2}}}}$."}


def _sciq(i: int) -> dict[str, Any]:
    return {"question": f"What carries charge {i}?", "distractor3": "neutron",
            "distractor1": "photon", "distractor2": "gluon", "correct_answer": "electron",
            "support": f"Electrons carry charge in circuit {i}." if i % 3 else ""}


def _boolq(i: int) -> dict[str, Any]:
    return {"question": f"is {i} even", "answer": i % 2 == 0,
            "passage": f"The number {i} is {'even' if i % 2 == 0 else 'odd'}."}


def _arc(i: int) -> dict[str, Any]:
    labels = ["1", "2", "3", "4"] if i % 4 == 0 else ["A", "B", "C", "D", "E"][:3 + i % 3]
    return {"id": f"Mercury_{i}", "question": f"Which planet is number {i % len(labels)}?",
            "choices": {"text": [f"planet {k}" for k in range(len(labels))], "label": labels},
            "answerKey": labels[i % len(labels)]}


def _squad(i: int) -> dict[str, Any]:
    return {"id": f"5733{i}", "title": "Notre_Dame",
            "context": f"The grotto was built in {1800 + i} by the students.",
            "question": "When was the grotto built?",
            "answers": {"text": [str(1800 + i), f"in {1800 + i}"], "answer_start": [23, 20]}}


def _mmlu(i: int) -> dict[str, Any]:
    return {"question": f"  What is {i} + 1? ", "subject": "elementary_mathematics",
            "choices": [str(i + k) for k in range(4)], "answer": 1}


def _text_label(classes: int, text: str = "text") -> Callable[[int], dict[str, Any]]:
    return lambda i: {"label": i % classes, text: f"review or story number {i}"}


def _superni(i: int) -> list[dict[str, Any]]:
    return [{"id": f"{task}-{i}", "task_name": task, "definition": f"Solve {task}.",
             "inputs": f"input {i} of {task}", "targets": f"output {i}"}
            for task in SUPERNI_TASKS]


SPLITS: dict[str, tuple[Callable[[int], Any], tuple[str, ...]]] = {
    "hf:vicgalle/alpaca-gpt4": (_alpaca, ("train",)),
    "hf:openai/gsm8k:main": (_gsm8k, ("train", "test")),
    "hf:DigitalLearningGmbH/MATH-lighteval": (_math, ("train", "test")),
    "hf:allenai/sciq": (_sciq, ("train", "validation", "test")),
    "hf:google/boolq": (_boolq, ("train", "validation")),
    "hf:allenai/ai2_arc:ARC-Challenge": (_arc, ("train", "validation", "test")),
    "hf:fancyzhx/ag_news": (_text_label(4), ("train", "test")),
    "hf:rajpurkar/squad": (_squad, ("train", "validation")),
    "hf:cais/mmlu:all": (_mmlu, ("auxiliary_train", "dev", "validation", "test")),
    "hf:fancyzhx/dbpedia_14": (lambda i: {"label": i % 14, "title": f"Thing {i}",
                                          "content": f"Thing {i} is a thing."},
                               ("train", "test")),
    "hf:community-datasets/yahoo_answers_topics": (
        lambda i: {"id": i, "topic": i % 10, "question_title": f"why {i}?",
                   "question_content": "" if i % 2 else "details", "best_answer": "because"},
        ("train", "test")),
    "hf:Yelp/yelp_review_full": (_text_label(5), ("train", "test")),
    "hf:stanfordnlp/imdb": (_text_label(2), ("train", "test")),
    "hf:nyu-mll/glue:sst2": (lambda i: {"sentence": f"a film {i}", "label": i % 2, "idx": i},
                             ("train", "validation")),
    "hf:nyu-mll/glue:mnli": (lambda i: {"premise": f"p {i}", "hypothesis": f"h {i}",
                                        "label": i % 3, "idx": i},
                             ("train", "validation_matched", "validation_mismatched")),
    "hf:nyu-mll/glue:rte": (lambda i: {"sentence1": f"s {i}", "sentence2": f"t {i}",
                                       "label": i % 2, "idx": i}, ("train", "validation")),
    "hf:nyu-mll/glue:qqp": (lambda i: {"question1": f"q {i}?", "question2": f"r {i}?",
                                       "label": i % 2, "idx": i}, ("train", "validation")),
    "hf:aps/super_glue:cb": (lambda i: {"premise": f"p {i}", "hypothesis": f"h {i}",
                                        "idx": i, "label": i % 3}, ("train", "validation")),
    "hf:aps/super_glue:boolq": (lambda i: {"question": f"is {i} odd", "passage": f"{i}",
                                           "idx": i, "label": i % 2}, ("train", "validation")),
    "hf:aps/super_glue:multirc": (
        lambda i: {"paragraph": f"para {i}", "question": "why?", "answer": f"cand {i}",
                   "idx": {"paragraph": i, "question": 0, "answer": i}, "label": i % 2},
        ("train", "validation")),
    "hf:aps/super_glue:wic": (
        lambda i: {"word": "bank", "sentence1": f"river bank {i}", "sentence2": "bank loan",
                   "start1": 6, "start2": 0, "end1": 10, "end2": 4, "idx": i, "label": i % 2},
        ("train", "validation")),
    "hf:aps/super_glue:copa": (
        lambda i: {"premise": f"It rained {i}.", "choice1": "wet", "choice2": "dry",
                   "question": ["cause", "effect"][i % 2], "idx": i, "label": i % 2},
        ("train", "validation")),
    "hf:Muennighoff/natural-instructions": (_superni, ("train", "validation", "test")),
}
LOCAL_COPIES = {"local/amazon_review_full": (_text_label(5), ("train", "test"))}


def _dataset_dict(make: Callable[[int], Any], splits: tuple[str, ...]) -> Any:
    import datasets

    def rows(offset: int) -> list[dict[str, Any]]:
        made = [make(offset + i) for i in range(ROWS)]
        return [row for item in made for row in (item if isinstance(item, list) else [item])]

    return datasets.DatasetDict({split: datasets.Dataset.from_list(rows(100 * index))
                                 for index, split in enumerate(splits)})


def hub_stand_in(spec: str) -> Any:
    """The DatasetDict standing in for hub dataset `spec` (KeyError for an unknown one)."""
    make, splits = SPLITS[spec]
    return _dataset_dict(make, splits)


def write_data_root(root: Path) -> Path:
    """Every stand-in saved where the data root looks for it; returns `root`."""
    import datasets

    datasets.disable_progress_bars()
    for spec in SPLITS:
        hub_stand_in(spec).save_to_disk(str(HubSpec.parse(spec).local_copy(root)))
    for relative, (make, splits) in LOCAL_COPIES.items():
        _dataset_dict(make, splits).save_to_disk(str(root / relative))
    return root
