"""Build the small English base model bundled in src/mssr/assets/base-model (deterministic, CPU).

    apt-get install wordnet-base dict-devil dict-jargon python3.11-doc   # the sources, once
    .venv/bin/python scripts/build_base_model.py [--output src/mssr/assets/base-model]

1. Corpus (scripts/base_model_corpus.py): WordNet 3.0 definitions and usage examples, the
   prose of two public-domain dictionaries and of the Python documentation, plus templated
   sentences and chats over the suite's vocabulary; the documents are shuffled with the seed.
2. Tokenizer: byte-level BPE (tokenizers library) learned from the corpus, with <s> </s> <pad>
   <unk> and a "User: ...\\nAssistant: ..." chat template, saved as a PreTrainedTokenizerFast.
   It adds a prefix space, so a response tokenized on its own ("closed" after "Assistant:") gets
   the same word tokens as inside running text.
3. Model: a LlamaForCausalLM (tied embeddings) pretrained with AdamW on packed 128-token blocks,
   saved in half precision with safetensors and a model card (README.md).
Seeds are fixed (numpy Generator, torch.manual_seed and a torch.Generator for the batches) and
torch uses --threads threads (--bf16: bfloat16 autocast in the forward pass, float32 weights
and optimizer). Every --checkpoint-every steps the training state is saved under
--work-dir; a rerun with the same arguments resumes from it and ends with the same weights.
The tokenized corpus and the tokenizer are kept in --work-dir too (corpus.pt, tokenizer/), so a
resumed build trains on exactly the blocks it started with even if the installed sources
changed since (Debian's package index moves with point releases).

--realtext-texts adds the texts (never the labels) of the `realtext` suite's sources that the
corpus lacks: every Debian package's one-line description (without its name or section) and
the first DESCRIPTION paragraph of every Linux man-pages page (without its NAME line or
section); WordNet and the Python documentation are in the corpus already. --snapshot-every
saves the model as it stands every N steps under --work-dir/snapshots/step-N, for learning
curves (`mssr run configs/realtext.yaml model.path=<snapshot>`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import sys
import time
from pathlib import Path

import base_model_corpus
import numpy as np
import realtext_sources
import torch
from base_model_corpus import SourceMissing

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}System: {{ message['content'] }}\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
    "{% else %}Assistant: {{ message['content'] }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")
SPECIAL_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>",
                  "unk_token": "<unk>"}
LOSS_WINDOW = 50


def shuffled_documents(sources: dict[str, list[str]], seed: int) -> list[str]:
    documents = [document for name in sorted(sources) for document in sources[name]]
    order = np.random.default_rng(seed).permutation(len(documents))
    return [documents[int(i)] for i in order]


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


def build_model(tokenizer, args: argparse.Namespace):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=args.hidden, intermediate_size=args.mlp,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.heads, max_position_embeddings=256, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    return LlamaForCausalLM(config)


def realtext_texts() -> dict[str, list[str]]:
    """The realtext suite's Debian and man-page texts, without labels, each text once."""
    descriptions = dict.fromkeys(d.text for d in realtext_sources.debian_packages())
    paragraphs = dict.fromkeys(d.text for d in realtext_sources.man_pages())
    return {"debian": list(descriptions), "manpages": list(paragraphs)}


CORPUS_ARGUMENTS = ("seed", "templated", "vocab_size", "block", "realtext_texts")


def prepare_corpus(args: argparse.Namespace):
    """(tokenizer, blocks, source rows of the model card): built from the sources and saved in
    --work-dir, or loaded from there when a build resumes."""
    from transformers import AutoTokenizer

    saved = args.work_dir / "corpus.pt"
    recipe = {name: getattr(args, name) for name in CORPUS_ARGUMENTS}
    if saved.is_file():
        state = torch.load(saved, weights_only=False)
        if state["recipe"] != recipe:
            sys.exit(f"build_base_model: {saved} was built with {state['recipe']}, not "
                     f"{recipe}: use another --work-dir")
        print("corpus and tokenizer loaded from the work directory", flush=True)
        return AutoTokenizer.from_pretrained(args.work_dir / "tokenizer"), state["blocks"], \
            state["source_rows"]
    sources = base_model_corpus.build_corpus(args.seed, args.templated)
    if args.realtext_texts:
        sources |= realtext_texts()
    corpus = shuffled_documents(sources, args.seed)
    tokenizer = train_tokenizer(corpus, args.vocab_size)
    blocks = pack(corpus, tokenizer, args.block)
    rows = source_rows(sources, tokenizer)
    tokenizer.save_pretrained(args.work_dir / "tokenizer")
    torch.save({"blocks": blocks, "source_rows": rows, "recipe": recipe}, saved.with_suffix(".tmp"))
    saved.with_suffix(".tmp").replace(saved)
    return tokenizer, blocks, rows


def save_model(model, tokenizer, output: Path) -> None:
    """Half-precision safetensors (loaded as float32 by default) and the tokenizer."""
    if output.exists():
        shutil.rmtree(output)
    half = copy.deepcopy(model).to(torch.float16)  # the training model keeps its precision
    half.save_pretrained(output, safe_serialization=True)
    half.config.dtype = torch.float32  # half-precision file, loaded as float32 by default
    half.config.save_pretrained(output)
    tokenizer.save_pretrained(output)


def pretrain(model, blocks: torch.Tensor, args: argparse.Namespace,
             tokenizer=None) -> tuple[float, float]:
    """AdamW with linear warm-up and cosine decay to a tenth of the peak, resumable from the
    checkpoint in --work-dir; returns the mean loss of the last LOSS_WINDOW steps and the
    training seconds (over every resumed part)."""
    generator = torch.Generator().manual_seed(args.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1,
                                  betas=(0.9, 0.95))
    warmup = max(1, args.steps // 50)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup) / (args.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    checkpoint = args.work_dir / "checkpoint.pt"
    first, recent, earlier_seconds = 0, [], 0.0
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state.get("bf16", False) != args.bf16:
            sys.exit(f"build_base_model: {checkpoint} was trained with bf16 "
                     f"{state.get('bf16', False)}; resume it with the same --bf16 setting")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        first, recent, earlier_seconds = state["step"], state["recent"], state["seconds"]
        print(f"resumed at step {first}", flush=True)
    start = time.monotonic()
    model.train()
    for step in range(first, args.steps):
        batch = blocks[torch.randint(len(blocks), (args.batch_size,), generator=generator)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        recent = (recent + [loss.item()])[-LOSS_WINDOW:]
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:5d}/{args.steps}  loss {loss.item():.3f}  "
                  f"{time.monotonic() - start:.0f}s", flush=True)
        if args.snapshot_every and (step + 1) % args.snapshot_every == 0 and tokenizer:
            save_model(model, tokenizer, args.work_dir / "snapshots" / f"step-{step + 1}")
            model.train()
        stopping = args.stop_after is not None and step + 1 == args.stop_after < args.steps
        if stopping or args.checkpoint_every and (step + 1) % args.checkpoint_every == 0:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                     "step": step + 1, "recent": recent, "bf16": args.bf16,
                     "seconds": earlier_seconds + time.monotonic() - start}
            torch.save(state, checkpoint.with_suffix(".tmp"))
            checkpoint.with_suffix(".tmp").replace(checkpoint)
        if stopping:
            print(f"stopped after step {step + 1} (checkpoint saved); rerun to go on", flush=True)
            break
    return sum(recent) / len(recent), earlier_seconds + time.monotonic() - start


MODEL_CARD = """# mssr bundled base model

A small English `LlamaForCausalLM` pretrained from scratch so that `mssr` runs offline with
`model.path: bundled`. It has read English definitions and usage examples (WordNet), the prose
of two public-domain dictionaries and of the Python documentation, and templated sentences and
chats over the built-in suite's vocabulary (including everyday skills a reader has: sums,
tallies, plurals, and saying words again in the same or the other order). It has never seen
the suite's prompts or synthetic facts, so fine-tuning on the suite really has to learn (and
can really forget).

- Architecture: Llama, hidden {hidden}, {layers} layers, {heads} heads, MLP {mlp}, tied
  embeddings, {parameters:,} parameters, vocabulary {vocab} (byte-level BPE, `<s>` `</s>`
  `<pad>` `<unk>`), chat template "User: ...\\nAssistant: ...". Weights stored in float16;
  config.json says float32, so `from_pretrained` (and `mssr` on CPU) loads them as float32.
- Corpus ({tokens:,} tokens in {block}-token blocks):

  | source | package | licence | documents | tokens |
  |---|---|---|---:|---:|
{source_rows}

  WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. THIS SOFTWARE AND
  DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES,
  EXPRESS OR IMPLIED. The Devil's Dictionary (Ambrose Bierce, 1911) and the Jargon File 4.4.7
  are in the public domain; the Python 3.11 documentation is under the PSF License Agreement.
  Only weights trained on the corpus are shipped, not its text.
- Training: {steps} AdamW steps, batch {batch} x {block} tokens ({seen:,} tokens, {epochs:.1f}
  passes), peak lr {lr}, warm-up then cosine decay, seed {seed}, {precision}, CPU ({threads}
  threads):
  {minutes:.1f} minutes of training, {build_minutes:.1f} for the whole build. Final loss
  (mean of the last {window} steps): {loss:.3f}.
- Rebuild: `{command}`
"""

SOURCES = {"wordnet": ("WordNet 3.0 glosses and examples", "`wordnet-base`", "WordNet 3.0"),
           "devil": ("The Devil's Dictionary, prose paragraphs", "`dict-devil`",
                     "public domain"),
           "jargon": ("The Jargon File 4.4.7, prose paragraphs", "`dict-jargon`",
                      "public domain"),
           "python-docs": ("Python 3.11 documentation, prose paragraphs", "`python3.11-doc`",
                           "PSF-2.0"),
           "templates": ("templated sentences and chats", "this repository", "Apache-2.0"),
           "debian": ("Debian 12 package one-line descriptions (no names or sections)",
                      "apt's package index", "each package's licence"),
           "manpages": ("Linux man-pages, first DESCRIPTION paragraphs (no NAME lines)",
                        "`manpages`, `manpages-dev`", "Linux man-pages copyleft")}


def source_rows(sources: dict[str, list[str]], tokenizer) -> str:
    rows = []
    for name, (what, package, licence) in SOURCES.items():
        if name not in sources:
            continue
        documents = sources[name]
        tokens = sum(len(ids) for ids in tokenizer(documents, add_special_tokens=False)[
            "input_ids"])
        rows.append(f"  | {what} | {package} | {licence} | {len(documents):,} | {tokens:,} |")
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("src/mssr/assets/base-model"))
    parser.add_argument("--work-dir", type=Path, default=Path("build/base-model"),
                        help="checkpoints and the build log's state (resumed when present)")
    parser.add_argument("--templated", type=int, default=60_000,
                        help="templated documents added to the dictionaries")
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--hidden", type=int, default=192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--mlp", type=int, default=512)
    parser.add_argument("--block", type=int, default=128, help="tokens per training row")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads (on 2 idle cores: 1.35 s a step with two, 2.12 with "
                             "one; on a shared CPU, use one)")
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--stop-after", type=int,
                        help="save a checkpoint and exit after this step (a rerun goes on)")
    parser.add_argument("--snapshot-every", type=int, default=0,
                        help="save the model every N steps under work-dir/snapshots (0: never)")
    parser.add_argument("--bf16", action="store_true",
                        help="bfloat16 autocast for the forward pass; weights and optimizer "
                             "stay float32 (1.6x faster a step on a CPU with AMX)")
    parser.add_argument("--realtext-texts", action="store_true",
                        help="add the realtext suite's Debian and man-page texts (no labels)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    began = time.monotonic()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        tokenizer, blocks, rows = prepare_corpus(args)
    except SourceMissing as missing:
        sys.exit(f"build_base_model: {missing}")
    print(f"corpus: {blocks.numel():,} tokens, vocabulary {len(tokenizer)}", flush=True)
    model = build_model(tokenizer, args)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters:,} parameters", flush=True)
    (args.work_dir / "arguments.json").write_text(json.dumps(
        {k: str(v) for k, v in vars(args).items()}, indent=1), encoding="utf-8")
    prepared = time.monotonic() - began
    loss, train_seconds = pretrain(model, blocks, args, tokenizer)
    if args.stop_after is not None and args.stop_after < args.steps:
        return
    trained = time.monotonic()
    save_model(model, tokenizer, args.output)
    seen = args.steps * args.batch_size * args.block
    card = MODEL_CARD.format(
        hidden=args.hidden, layers=args.layers, heads=args.heads, mlp=args.mlp,
        parameters=parameters, vocab=len(tokenizer), tokens=blocks.numel(),
        source_rows=rows, steps=args.steps, batch=args.batch_size,
        block=args.block, seen=seen, epochs=seen / blocks.numel(), lr=args.lr, seed=args.seed,
        precision="bfloat16 autocast" if args.bf16 else "float32",
        threads=args.threads, minutes=train_seconds / 60,
        build_minutes=(prepared + train_seconds + time.monotonic() - trained) / 60,
        window=LOSS_WINDOW,
        loss=loss, command=" ".join([".venv/bin/python", "scripts/build_base_model.py",
                                     *sys.argv[1:]]))
    (args.output / "README.md").write_text(card, encoding="utf-8")
    print(f"saved to {args.output} (final loss {loss:.3f})", flush=True)


if __name__ == "__main__":
    main()
