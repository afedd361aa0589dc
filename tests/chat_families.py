"""Tiny in-process tokenizers for the major chat families, each carrying that family's real
special tokens and chat template, and tiny models of each family's architecture.

Templates are the ones shipped in each model's tokenizer_config.json (Qwen2.5-Instruct,
Llama-3.1/3.2-Instruct, Mistral-7B-Instruct-v0.3, gemma-2-it); the tool-calling branches of
the Qwen, Llama and Mistral templates are left out (plain chats never take them), every other
line is kept as shipped. Tests in several folders import this module (tests/ is on sys.path
through its conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QWEN25_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "{%- else %}\n"
    "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + "
    "'\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n")

LLAMA3_TEMPLATE = (
    "{{- bos_token }}\n"
    "{%- if not date_string is defined %}\n"
    "    {%- set date_string = \"26 Jul 2024\" %}\n"
    "{%- endif %}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content']|trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_message = \"\" %}\n"
    "{%- endif %}\n"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
    "{{- system_message }}\n"
    "{{- \"<|eot_id|>\" }}\n"
    "{%- for message in messages %}\n"
    "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in "
    "message) %}\n"
    "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n")

MISTRAL_V03_TEMPLATE = (
    "{%- if messages[0][\"role\"] == \"system\" %}\n"
    "    {%- set system_message = messages[0][\"content\"] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "{%- set ns = namespace() %}\n"
    "{%- set ns.index = 0 %}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or "
    "(message.tool_calls is defined and message.tool_calls is not none)) %}\n"
    "        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n"
    "            {{- raise_exception(\"After the optional system message, conversation roles "
    "must alternate user/assistant/user/assistant/...\") }}\n"
    "        {%- endif %}\n"
    "        {%- set ns.index = ns.index + 1 %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if message[\"role\"] == \"user\" %}\n"
    "        {%- if loop.last and system_message is defined %}\n"
    "            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + "
    "\"[/INST]\" }}\n"
    "        {%- else %}\n"
    "            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n"
    "        {%- endif %}\n"
    "    {%- elif message[\"role\"] == \"assistant\" %}\n"
    "        {{- \" \" + message[\"content\"]|trim + eos_token}}\n"
    "    {%- else %}\n"
    "        {{- raise_exception(\"Only user and assistant roles are supported, with the "
    "exception of an initial optional system message!\") }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n")

GEMMA2_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
    "supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}"
    "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")

# ChatML with `{% generation %}` blocks (as SmolLM3 and TRL's training templates mark the
# assistant's tokens): the path where the tokenizer's own assistant mask is used.
CHATML_GENERATION_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message.content + '<|im_end|>' }}"
    "{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")


@dataclass(frozen=True)
class ChatFamily:
    """A model family's tokenizer pieces: special tokens by role, the template, the token
    that ends an assistant turn, and the transformers config class of its architecture."""

    name: str
    template: str
    end_of_turn: str
    config_class: str
    special: dict[str, str | None]
    extra_tokens: tuple[str, ...] = ()
    config_extra: dict[str, Any] = field(default_factory=dict)


FAMILIES = {
    "qwen2.5": ChatFamily(
        "qwen2.5", QWEN25_TEMPLATE, "<|im_end|>", "Qwen2Config",
        {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        ("<|im_start|>",)),
    "llama3": ChatFamily(
        "llama3", LLAMA3_TEMPLATE, "<|eot_id|>", "LlamaConfig",
        {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": None},
        ("<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>")),
    "mistral": ChatFamily(
        "mistral", MISTRAL_V03_TEMPLATE, "</s>", "MistralConfig",
        {"bos_token": "<s>", "eos_token": "</s>", "pad_token": None, "unk_token": "<unk>"},
        ("[INST]", "[/INST]")),
    "gemma2": ChatFamily(
        "gemma2", GEMMA2_TEMPLATE, "<end_of_turn>", "Gemma2Config",
        {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
        ("<start_of_turn>", "<end_of_turn>"),
        {"head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 64}),
    "chatml-generation": ChatFamily(
        "chatml-generation", CHATML_GENERATION_TEMPLATE, "<|im_end|>", "Qwen2Config",
        {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        ("<|im_start|>",)),
}

REAL_FAMILIES = ("qwen2.5", "llama3", "mistral", "gemma2")

TRAINING_TEXTS = [
    "the answer is 42", "what is two plus two? four", "reverse the words: moon tree fish bird",
    "User: hello there\nAssistant: hi, how can I help?", "red green blue yellow cat dog sun",
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024",
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    "system user assistant model",
]


def build_tokenizer(family: ChatFamily, texts: list[str] | None = None) -> Any:
    """A byte-level BPE trained on a few sentences (and `texts`), with the family's special
    tokens as single ids and its chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [token for token in family.special.values() if token is not None]
    specials += [token for token in family.extra_tokens if token not in specials]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    backend.train_from_iterator((TRAINING_TEXTS + list(texts or [])) * 4, trainer)
    roles = {role: token for role, token in family.special.items() if token is not None}
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **roles)
    tokenizer.add_special_tokens({"additional_special_tokens": list(family.extra_tokens)})
    tokenizer.chat_template = family.template
    return tokenizer


def tiny_model_config(family: ChatFamily, tokenizer: Any, **sizes: Any) -> Any:
    """The family's architecture at tiny size (hidden 32, 1 layer unless `sizes` says)."""
    import transformers

    eos = tokenizer.convert_tokens_to_ids(family.end_of_turn)
    settings = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
                "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
                "max_position_embeddings": 256, "tie_word_embeddings": True,
                "bos_token_id": tokenizer.bos_token_id, "eos_token_id": eos,
                "pad_token_id": tokenizer.pad_token_id, **family.config_extra, **sizes}
    return getattr(transformers, family.config_class)(**settings)


def save_tiny_model(family: ChatFamily, directory: Path, texts: list[str] | None = None,
                    seed: int = 0, **sizes: Any) -> Path:
    """A model directory (config, random weights drawn from `seed`, tokenizer with the
    template) for `load_model`."""
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = build_tokenizer(family, texts)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_model_config(family, tokenizer, **sizes))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
