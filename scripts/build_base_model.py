"""Build the small base model bundled in assets/base-model (deterministic, CPU, < 20 minutes).

    .venv/bin/python scripts/build_base_model.py [--output assets/base-model] [--steps 400]

1. Corpus: templated plain English about people, objects, animals, food, places, colors,
   counting, single arithmetic statements, descriptions, Q&A and short "User:/Assistant:"
   dialogues. It uses the suite's vocabulary (mssr.data.suites.vocabulary) but never a suite
   prompt form ("Review:", "Reverse:", ...), never an opposite pair, and none of the made-up
   names behind the suite's synthetic facts: the model knows the language, not the answers.
2. Tokenizer: byte-level BPE (tokenizers library) with <s> </s> <pad> <unk> and a
   "User: ...\nAssistant: ..." chat template, saved as a PreTrainedTokenizerFast. It adds a
   prefix space, so a response tokenized on its own ("closed" after "Assistant:") gets the
   same word tokens as inside running text.
3. Model: a LlamaForCausalLM (~1.2M parameters, tied embeddings) pretrained with AdamW on packed
   128-token blocks, then saved with safetensors and a model card (README.md).
Seeds are fixed (numpy Generator and torch.manual_seed), and torch uses 2 threads.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from mssr.data.suites.sampling import pick, pick_distinct
from mssr.data.suites.vocabulary import (
    ANIMALS,
    COLORS,
    FOODS,
    NAMES,
    NEGATIVE,
    NUMBER_WORDS,
    OBJECTS,
    OPPOSITES,
    PLACES,
    POSITIVE,
)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}System: {{ message['content'] }}\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
    "{% else %}Assistant: {{ message['content'] }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")
SPECIAL_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>",
                  "unk_token": "<unk>"}
DESCRIPTIVE = POSITIVE + NEGATIVE + tuple(word for pair in OPPOSITES for word in pair)
NOUNS = OBJECTS + ANIMALS + FOODS
# Everyday words of the suite's instructions, used in plain sentences only.
PLAIN_SENTENCES = (
    "Every country has a capital city.", "People in many countries speak more than one language.",
    "A review says what someone thinks.", "The answer was positive.", "The result was negative.",
    "The topic of the talk was food.", "Please compute the sum.", "Tell me a word.",
    "Give me the book, please.", "Which word is the longest?", "Name three colors.",
    "Read the words in order.", "Write each word again.", "She made a list of items.",
    "The city is big and the village is small.", "Some animals live in the forest.",
    "Where is the market?", "Quick question: is the shop open?", "You are a good friend.",
    "Answer with a number.", "The word has four letters.", "How many are there?",
)


def sentence(rng: np.random.Generator) -> str:
    """One templated sentence, dialogue or Q&A."""
    return pick(rng, GENERATORS)(rng)


def _person_object(rng: np.random.Generator) -> str:
    name, color, item = pick(rng, NAMES), pick(rng, COLORS), pick(rng, OBJECTS)
    return pick(rng, (f"{name} has a {color} {item}.", f"{name} found a {color} {item}.",
                      f"The {item} of {name} is {color}.", f"{name} likes the {color} {item}."))


def _animal_place(rng: np.random.Generator) -> str:
    animal, place, name = pick(rng, ANIMALS), pick(rng, PLACES), pick(rng, NAMES)
    return pick(rng, (f"The {animal} is in the {place}.",
                      f"{name} saw a {animal} near the {place}.",
                      f"A {animal} walked to the {place}.", f"{name} went to the {place}."))


def _counting(rng: np.random.Generator) -> str:
    count, noun, name = int(rng.integers(0, 13)), pick(rng, OBJECTS + ANIMALS), pick(rng, NAMES)
    plural = noun if count == 1 else noun + "s"
    return pick(rng, (f"{name} has {count} {plural}.", f"There are {count} {plural} here.",
                      f"I count {NUMBER_WORDS[count]} {plural}.",
                      f"one {noun}, two {noun}s, three {noun}s.",
                      f"{name} bought {count} {plural} at the {pick(rng, PLACES)}."))


def _arithmetic(rng: np.random.Generator) -> str:
    first, second = int(rng.integers(0, 21)), int(rng.integers(0, 21))
    high, low = max(first, second), min(first, second)
    return pick(rng, (f"{first} plus {second} is {first + second}.",
                      f"{first} + {second} = {first + second}.",
                      f"{high} minus {low} is {high - low}.", f"{high} - {low} = {high - low}.",
                      f"If you add {first} and {second} you get {first + second}.",
                      f"Take {low} from {high} and {high - low} are left."))


def _description(rng: np.random.Generator) -> str:
    noun, place = pick(rng, NOUNS), pick(rng, PLACES)
    first, second = pick_distinct(rng, DESCRIPTIVE, 2)
    return pick(rng, (f"The {noun} is {first}.", f"The {noun} looks {first} and {second}.",
                      f"The {place} was {first} today.", f"It is a {first} {noun}.",
                      f"The {pick(rng, FOODS)} tastes {first}."))


def _list(rng: np.random.Generator) -> str:
    words = pick_distinct(rng, COLORS + ANIMALS + OBJECTS + PLACES, int(rng.integers(2, 5)))
    return pick(rng, (f"I see {', '.join(words)}.", f"{' and '.join(words)}.",
                      f"The list is {' '.join(words)}."))


def _question_answer(rng: np.random.Generator) -> str:
    animal, place, item, color = (pick(rng, ANIMALS), pick(rng, PLACES), pick(rng, OBJECTS),
                                  pick(rng, COLORS))
    return pick(rng, (f"Q: Where is the {animal}? A: The {animal} is in the {place}.",
                      f"Question: What color is the {item}? Answer: It is {color}.",
                      f"Q: Who has the {item}? A: {pick(rng, NAMES)} has it."))


def _dialogue(rng: np.random.Generator) -> str:
    name, place, item, color = (pick(rng, NAMES), pick(rng, PLACES), pick(rng, OBJECTS),
                                pick(rng, COLORS))
    user, reply = pick(rng, (("Hello!", "Hello! How can I help you?"),
                             (f"Where is {name}?", f"{name} is at the {place}."),
                             (f"What color is the {item}?", f"The {item} is {color}."),
                             (f"Do you like {pick(rng, FOODS)}?", "Yes, I do."),
                             ("Thank you.", "You are welcome.")))
    return f"User: {user}\nAssistant: {reply}"


def _plain(rng: np.random.Generator) -> str:
    return pick(rng, PLAIN_SENTENCES)


GENERATORS: tuple[Callable[[np.random.Generator], str], ...] = (
    _person_object, _animal_place, _counting, _arithmetic, _arithmetic, _description,
    _description, _list, _question_answer, _dialogue, _plain)


def build_corpus(rng: np.random.Generator, documents: int) -> list[str]:
    """Short documents of one to four sentences each."""
    return ["\n".join(sentence(rng) for _ in range(int(rng.integers(1, 5))))
            for _ in range(documents)]


def train_tokenizer(corpus: list[str], vocab_size: int):
    """A byte-level BPE tokenizer trained on the corpus, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(
        SPECIAL_TOKENS.values()), initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def pack(corpus: list[str], tokenizer, block: int) -> torch.Tensor:
    """Every document as <s> text </s>, concatenated and cut into `block`-token rows."""
    ids: list[int] = []
    for encoded in tokenizer(corpus, add_special_tokens=False)["input_ids"]:
        ids += [tokenizer.bos_token_id, *encoded, tokenizer.eos_token_id]
    rows = len(ids) // block
    return torch.tensor(ids[:rows * block]).view(rows, block)


def build_model(tokenizer, hidden: int, layers: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=3 * hidden,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4,
        max_position_embeddings=256, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    return LlamaForCausalLM(config)


def pretrain(model, blocks: torch.Tensor, args: argparse.Namespace) -> float:
    """AdamW with linear warm-up and cosine decay; returns the mean loss of the last 20 steps."""
    generator = torch.Generator().manual_seed(args.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup) / (args.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    recent: list[float] = []
    start = time.monotonic()
    model.train()
    for step in range(args.steps):
        rows = torch.randint(len(blocks), (args.batch_size,), generator=generator)
        batch = blocks[rows]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        recent = (recent + [loss.item()])[-20:]
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:4d}/{args.steps}  loss {loss.item():.3f}  "
                  f"{time.monotonic() - start:.0f}s", flush=True)
    return sum(recent) / len(recent)


MODEL_CARD = """# mssr bundled base model

A tiny `LlamaForCausalLM` pretrained from scratch so that `mssr` runs offline with
`model.path: bundled`. It knows simple templated English, counting and small sums; it has
never seen the built-in suite's prompts or synthetic facts, so fine-tuning on the suite
really has to learn (and can really forget).

- Architecture: Llama, hidden {hidden}, {layers} layers, 4 heads, MLP {mlp}, tied embeddings,
  {parameters:,} parameters, vocabulary {vocab} (byte-level BPE, `<s>` `</s>` `<pad>` `<unk>`),
  chat template "User: ...\\nAssistant: ...".
- Corpus: {documents:,} templated documents ({tokens:,} tokens) about people, objects,
  animals, food, places, colors, counting, single arithmetic statements, descriptions,
  Q&A and short dialogues (see `scripts/build_base_model.py`).
- Training: {steps} AdamW steps, batch {batch} x {block} tokens, peak lr {lr}, cosine decay,
  seed {seed}, CPU ({threads} threads), {minutes:.1f} minutes. Final loss (mean of the last
  20 steps): {loss:.3f}.
- Rebuild: `{command}`
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("assets/base-model"))
    parser.add_argument("--documents", type=int, default=40_000, help="corpus documents")
    parser.add_argument("--vocab-size", type=int, default=3000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--block", type=int, default=128, help="tokens per training row")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    began = time.monotonic()
    corpus = build_corpus(np.random.default_rng(args.seed), args.documents)
    tokenizer = train_tokenizer(corpus, args.vocab_size)
    blocks = pack(corpus, tokenizer, args.block)
    print(f"corpus: {len(corpus):,} documents, {blocks.numel():,} tokens, "
          f"vocabulary {len(tokenizer)}", flush=True)
    model = build_model(tokenizer, args.hidden, args.layers)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters:,} parameters", flush=True)
    loss = pretrain(model, blocks, args)
    if args.output.exists():
        shutil.rmtree(args.output)
    model.save_pretrained(args.output, safe_serialization=True)
    tokenizer.save_pretrained(args.output)
    card = MODEL_CARD.format(
        hidden=args.hidden, layers=args.layers, mlp=3 * args.hidden, parameters=parameters,
        vocab=len(tokenizer), documents=len(corpus), tokens=blocks.numel(), steps=args.steps,
        batch=args.batch_size, block=args.block, lr=args.lr, seed=args.seed,
        threads=args.threads, minutes=(time.monotonic() - began) / 60, loss=loss,
        command=" ".join([".venv/bin/python", "scripts/build_base_model.py", *sys.argv[1:]]))
    (args.output / "README.md").write_text(card, encoding="utf-8")
    print(f"saved to {args.output} (final loss {loss:.3f})", flush=True)


if __name__ == "__main__":
    main()
