"""Does the bundled model generalise beyond the built-in suite? Three small tasks over ordinary
English words that the suite never uses, each scored on words held out of its training data:

- past_tense: "Past tense: walk" -> "walked" (regular verbs; exact match),
- word_class: is a word a noun, a verb or an adjective (multiple choice of 3),
- category: is a word an animal, a food, a tool or a vehicle (multiple choice of 4).

    python benchmarks/bench_generality.py [--output runs/generality] [--jobs N] [key=value ...]

Each task is trained alone and then all three at once (`joint`), with the demo config's
settings and the overrides; prints each task's score. The word lists are written out here, not
taken from the pretraining corpus, and no word of the suite's vocabulary appears in them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from mssr.data.suites.sampling import multiple_choice, pick
from mssr.engine.launch import execute_all
from mssr.paths import CONFIGS_DIR
from mssr.report import load_results
from mssr.run_config import TaskConfig, load_config

PAST_TENSE_VERBS = (
    "walk", "jump", "talk", "play", "call", "help", "cook", "wash", "paint", "kick", "pull",
    "push", "climb", "fill", "laugh", "look", "listen", "rain", "start", "visit", "watch",
    "wait", "work", "answer", "ask", "kiss", "learn", "mix", "pack", "rest", "return", "turn",
    "want", "yell", "dream", "fix", "hunt", "lift", "melt", "need", "print", "reach", "rush",
    "sail", "shout", "sign", "smell", "spell", "test", "thank", "touch", "train", "treat",
    "trust", "wish", "cross", "crash", "guard", "jump", "kill", "miss", "pass", "pick")
WORD_CLASSES = {
    "noun": ("chair", "table", "window", "doctor", "teacher", "bridge", "shirt", "pencil",
             "door", "kitchen", "island", "bottle", "letter", "engine", "planet", "sister",
             "pocket", "desk", "church", "dollar", "flower", "winter", "ocean", "tree",
             "house", "wall", "road", "friend", "button", "ticket"),
    "verb": ("run", "eat", "sing", "write", "swim", "drink", "sleep", "speak", "throw", "buy",
             "sell", "carry", "build", "forget", "choose", "begin", "arrive", "explain",
             "borrow", "decide", "destroy", "invite", "prefer", "remove", "suggest", "believe",
             "describe", "imagine", "improve", "deliver"),
    "adjective": ("angry", "brave", "busy", "calm", "cheap", "clever", "careful", "curious",
                  "famous", "gentle", "honest", "hungry", "lazy", "lucky", "polite", "proud",
                  "silly", "tiny", "huge", "narrow", "heavy", "sweet", "bitter", "smooth",
                  "rough", "shy", "wild", "warm", "cool", "wise"),
}
CATEGORIES = {
    "animal": ("tiger", "lion", "wolf", "fox", "bear", "mouse", "sheep", "deer", "eagle", "owl",
               "snake", "whale", "shark", "monkey", "zebra", "camel", "donkey", "turtle",
               "spider", "ant"),
    "food": ("carrot", "potato", "onion", "banana", "grape", "lemon", "butter", "sugar",
             "honey", "pasta", "bean", "pea", "pepper", "melon", "cookie", "sandwich", "pizza",
             "steak", "yogurt", "sausage"),
    "tool": ("hammer", "saw", "drill", "shovel", "wrench", "axe", "knife", "needle", "scissors",
             "brush", "rake", "ladder", "rope", "nail", "screw", "chisel", "pliers", "broom",
             "bucket", "hoe"),
    "vehicle": ("car", "bus", "truck", "train", "boat", "ship", "plane", "bicycle", "tractor",
                "taxi", "van", "canoe", "rocket", "subway", "helicopter", "scooter", "wagon",
                "sled", "yacht", "tram"),
}
HELD_OUT = 0.3  # share of each word list kept for evaluation only
TRAIN_EXAMPLES, EVAL_EXAMPLES = 400, 60


def _split(words: tuple[str, ...], rng: np.random.Generator) -> tuple[list[str], list[str]]:
    shuffled = [words[int(i)] for i in rng.permutation(len(words))]
    held = max(1, round(HELD_OUT * len(words)))
    return shuffled[held:], shuffled[:held]


def past_tense(words: list[str], rng: np.random.Generator) -> dict:
    word = pick(rng, words)
    return {"prompt": f"Past tense: {word}\nResult:", "response": f"{word}ed"}


def _labelled(rng: np.random.Generator, words: dict[str, list[str]], question: str) -> dict:
    label = pick(rng, sorted(words))
    word = pick(rng, words[label])
    return multiple_choice(rng, question.format(w=word), label, sorted(words), len(words))


def word_class(words: dict[str, list[str]], rng: np.random.Generator) -> dict:
    return _labelled(rng, words, "Is the word {w} a noun, a verb or an adjective?")


def category(words: dict[str, list[str]], rng: np.random.Generator) -> dict:
    return _labelled(rng, words, "What kind of thing is a {w}?")


def write_tasks(root: Path, seed: int) -> list[TaskConfig]:
    """Each task's train and eval JSONL files; the eval words never occur in train."""
    rng = np.random.default_rng(seed)
    verbs = _split(tuple(dict.fromkeys(PAST_TENSE_VERBS)), rng)
    classes = {name: _split(words, rng) for name, words in WORD_CLASSES.items()}
    kinds = {name: _split(words, rng) for name, words in CATEGORIES.items()}
    tasks = {"past_tense": (past_tense, verbs[0], verbs[1], "prompt_response", "exact_match"),
             "word_class": (word_class, {k: v[0] for k, v in classes.items()},
                            {k: v[1] for k, v in classes.items()}, "multiple_choice",
                            "multiple_choice"),
             "category": (category, {k: v[0] for k, v in kinds.items()},
                          {k: v[1] for k, v in kinds.items()}, "multiple_choice",
                          "multiple_choice")}
    configs = []
    root.mkdir(parents=True, exist_ok=True)
    for name, (generate, train_words, eval_words, format, scorer) in tasks.items():
        for split, words, count in (("train", train_words, TRAIN_EXAMPLES),
                                    ("eval", eval_words, EVAL_EXAMPLES)):
            lines = [json.dumps(generate(words, rng)) for _ in range(count)]
            (root / f"{name}.{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        configs.append(TaskConfig(name=name, train=str(root / f"{name}.train.jsonl"),
                                  eval=str(root / f"{name}.eval.jsonl"), format=format,
                                  scorer=scorer))
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIGS_DIR / "demo.yaml")
    parser.add_argument("--output", type=Path, default=Path("runs/generality"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    args = parser.parse_args()
    tasks = write_tasks(args.output / "data", args.seed)
    base = load_config(args.config, [*args.overrides, f"seed={args.seed}",
                                     "replay.strategy=none", "replay_budget=null"])
    configs = [dataclasses.replace(base, suite=None, tasks=[task],
                                   output=str(args.output / task.name)) for task in tasks]
    configs.append(dataclasses.replace(base, suite=None, tasks=tasks, joint=True,
                                       output=str(args.output / "joint")))
    run_dirs = execute_all(configs, args.jobs)
    print("| task | alone | joint |\n|---|---:|---:|")
    joint = load_results(run_dirs[-1])
    joint_scores = dict(zip(joint["tasks"], joint["acc_matrix"][-1], strict=True))
    for task, run_dir in zip(tasks, run_dirs[:-1], strict=True):
        alone = load_results(run_dir)["acc_matrix"][-1][0]
        print(f"| {task.name} | {alone:.2f} | {joint_scores[task.name]:.2f} |")


if __name__ == "__main__":
    main()
