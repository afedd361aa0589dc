"""What each realtext task's own training data determines, without a language model.

For every task of the `realtext` suite, a learner with no pretraining is fitted on the shipped
training records and scored on the shipped evaluation records:
- tasks with a closed answer set (classification, and the generated answers seen in
  training): multinomial naive Bayes over the passage's lowercase words and word pairs
  (add-0.5 smoothing), on the first 400 training records and on all of them;
- generated tasks also get the share of evaluation answers written in the passage (what
  copying could reach) and the share seen as a training answer (what a closed set could);
- the multiple-choice task: the choice sharing the most words with the passage (a tie among k
  counts 1/k).

A language model fine-tuned on the same records scores near these numbers when it brings no
knowledge of its own, so they bound what the targets of issue 21 can ask of a small model.

    python benchmarks/realtext_ceiling.py
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

from mssr.data.suites import realtext

SIZES = (400, None)  # training records: the first 400, and every shipped one


def words(text: str) -> list[str]:
    """Lowercase words (identifiers kept whole) and adjacent word pairs."""
    tokens = re.findall(r"[a-z0-9_]+", text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def passage(task: realtext.RealTextTask, record: dict) -> str:
    """The document inside a record's instruction."""
    before, after = task.prompt.split("{text}")
    text = record.get("prompt") or record["question"]
    return text[len(before):len(text) - len(after)]


class NaiveBayes:
    """Multinomial naive Bayes over `words`, add-0.5 smoothing."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.priors = Counter(label for _, label in pairs)
        self.counts = {label: Counter() for label in self.priors}
        for text, label in pairs:
            self.counts[label].update(words(text))
        self.vocabulary = len(set().union(*self.counts.values()))
        self.totals = {label: sum(counts.values()) for label, counts in self.counts.items()}

    def predict(self, text: str) -> str:
        tokens = words(text)

        def log_posterior(label: str) -> float:
            counts, denominator = self.counts[label], self.totals[label] + 0.5 * self.vocabulary
            return math.log(self.priors[label]) + sum(
                math.log((counts[token] + 0.5) / denominator) for token in tokens)
        return max(sorted(self.priors), key=log_posterior)


def read(task_name: str, split: str) -> list[dict]:
    path = realtext.DATA_DIR / task_name / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def word_overlap_choice(text: str, record: dict) -> float:
    """1/k when the answer is among the k choices sharing the most words with the text."""
    seen = set(re.findall(r"[a-z0-9]+", text.lower()))
    overlaps = [len(seen & set(re.findall(r"[a-z0-9]+", choice.lower())))
                for choice in record["choices"]]
    best = [index for index, overlap in enumerate(overlaps) if overlap == max(overlaps)]
    return 1 / len(best) if record["answer"] in best else 0.0


def ceiling(task_name: str) -> dict:
    """This task's row: chance, the data-only learners' scores and the training size."""
    task = realtext.TASKS[task_name]
    train, evaluation = read(task_name, "train"), read(task_name, "eval")
    row = {"task": task_name, "chance": task.chance, "train": len(train)}
    if task.format == "multiple_choice":
        row["word overlap"] = sum(word_overlap_choice(passage(task, r), r)
                                  for r in evaluation) / len(evaluation)
        return row
    for size in SIZES:
        fitted = NaiveBayes([(passage(task, r), r["response"]) for r in train[:size]])
        hits = sum(fitted.predict(passage(task, r)) == r["response"] for r in evaluation)
        row[f"naive Bayes, {size or 'all'}"] = hits / len(evaluation)
    if not task.balanced:  # a generated answer
        answers = {r["response"] for r in train}
        row["answer in passage"] = sum(r["response"].lower() in passage(task, r).lower()
                                       for r in evaluation) / len(evaluation)
        row["answer seen in training"] = sum(r["response"] in answers
                                             for r in evaluation) / len(evaluation)
    return row


def markdown(rows: list[dict]) -> str:
    columns = ["task", "chance", "train", "naive Bayes, 400", "naive Bayes, all",
               "answer in passage", "answer seen in training", "word overlap"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    for row in rows:
        cells = [row.get(column, "") for column in columns]
        lines.append("| " + " | ".join(f"{cell:.2f}" if isinstance(cell, float) else str(cell)
                                       for cell in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    rows = [ceiling(name) for name in realtext.TASKS]
    print(markdown(rows))
    output = Path("runs/realtext-ceiling.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
