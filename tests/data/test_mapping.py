"""Field mapping: lm-eval style templates from any dataset's columns, and their errors."""

from __future__ import annotations

import pytest

from mssr.data.loaders import load_task
from mssr.errors import ConfigError, DataError
from mssr.run_config import TaskConfig, load_config
from mssr.templates import last_boxed

GSM8K = [{"question": f"Tom has {i} apples and buys 2. How many?",
          "answer": f"He has {i} + 2 = <<{i}+2={i + 2}>>{i + 2}.\n#### {i + 2}"}
         for i in range(10)]
ARC = [{"id": f"q{i}", "question": f"Which is number {i % 4}?",
        "choices": {"text": ["zero", "one", "two", "three"], "label": ["A", "B", "C", "D"]},
        "answerKey": "ABCD"[i % 4]} for i in range(10)]
NEWS = [{"text": f"story {i}", "label": i % 4} for i in range(10)]
SQUAD = [{"question": f"When was grotto {i} built?",
          "answers": {"text": [f"{1800 + i}", f"in {1800 + i}"], "answer_start": [9, 6]}}
         for i in range(10)]
LABELS = ["World", "Sports", "Business", "Science or Technology"]


def task(path, **fields) -> TaskConfig:
    return TaskConfig(name="t", train=str(path), **fields)


def mapped(write_jsonl, records, **fields):
    return load_task(task(write_jsonl(records), **fields), seed=0)


def test_gsm8k_solution_and_its_final_answer(write_jsonl):
    full = mapped(write_jsonl, GSM8K, doc_to_text="Question: {{question}}\nAnswer:",
                  doc_to_target="{{answer}}")
    example = full.train[0]
    assert example.prompt.startswith("Question: Tom has") and example.prompt.endswith("Answer:")
    assert "####" in example.response and full.format == "prompt_response"
    final = mapped(write_jsonl, GSM8K, doc_to_text="{{question}}", doc_to_target="{{answer}}",
                   answer_pattern=r"####\s*(.+)")
    assert sorted(int(e.response) for e in final.train + final.eval) == list(range(2, 12))
    assert final.scorer == "numeric"


def test_arc_choices_dict_and_letter_answer(write_jsonl):
    data = mapped(write_jsonl, ARC, doc_to_text="Question: {{question}}\nAnswer:",
                  doc_to_choice="{{ choices.text }}",
                  doc_to_target="{{ choices.label.index(answerKey) }}")
    assert data.format == "multiple_choice" and data.scorer == "multiple_choice"
    for example in data.train + data.eval:
        assert example.choices == ("zero", "one", "two", "three")
        assert example.prompt.endswith(f"number {example.answer}?\nAnswer:")


def test_label_list_as_generation_or_multiple_choice(write_jsonl):
    generated = mapped(write_jsonl, NEWS, doc_to_text="{{text}}\nAnswer:",
                       doc_to_target="{{label}}", doc_to_choice=LABELS, format="prompt_response")
    assert generated.format == "prompt_response" and generated.train[0].choices is None
    assert {e.response for e in generated.train + generated.eval} == set(LABELS)
    by_text = mapped(write_jsonl, NEWS, doc_to_text="{{text}}",
                     doc_to_target="{{ ['World', 'Sports', 'Business', 'Science or Technology']"
                     "[label] }}", doc_to_choice=LABELS)
    assert [e.answer for e in sorted(by_text.eval + by_text.train, key=lambda e: e.prompt)] == \
        [i % 4 for i in range(10)]


def test_where_keeps_matching_rows_with_their_line_numbers(write_jsonl):
    rows = [{"task_name": "a" if i % 3 else "b", "inputs": f"in {i}", "targets": f"out {i}"}
            for i in range(12)]
    data = mapped(write_jsonl, rows, doc_to_text="{{inputs}}", doc_to_target="{{targets}}",
                  where={"task_name": "b"}, eval_fraction=0.25)
    lines = sorted(int(e.source.rsplit(":", 1)[1]) for e in data.train + data.eval)
    assert lines == [1, 4, 7, 10]


def test_unknown_column_names_task_record_and_field(write_jsonl):
    with pytest.raises(DataError) as caught:
        mapped(write_jsonl, GSM8K, doc_to_text="{{question}} {{passage}}",
               doc_to_target="{{answer}}")
    error = caught.value
    assert (error.line, error.field) == (1, "doc_to_text")
    assert "task 't'" in str(error) and "'passage' is undefined" in str(error)
    assert "columns are: question, answer" in str(error)


def test_gold_answers_from_a_list_column_beside_the_trained_response(write_jsonl):
    data = mapped(write_jsonl, SQUAD, doc_to_text="{{question}}",
                  doc_to_target="{{ answers.text[0] }}", doc_to_answers="{{ answers.text }}",
                  scorer="token_f1")
    for example in data.train + data.eval:
        assert example.gold_answers == (example.response, f"in {example.response}")
    plain = mapped(write_jsonl, SQUAD, doc_to_text="{{question}}",
                   doc_to_target="{{ answers.text[0] }}")
    assert all(e.gold_answers is None for e in plain.train + plain.eval)


@pytest.mark.parametrize(("answers", "problem"), [
    ("1812", "expected a list of gold answers, got str"),
    ([], "needs at least 1 gold answer"),
    (["1812", " "], "gold answer 1 is ' '"),
])
def test_gold_answers_that_are_not_a_list_of_strings_name_the_record(write_jsonl, answers,
                                                                     problem):
    records = SQUAD[:2] + [{"question": "When?", "answers": {"text": answers}}] + SQUAD[2:]
    with pytest.raises(DataError, match=problem) as caught:
        mapped(write_jsonl, records, doc_to_text="{{question}}", doc_to_target="{{question}}",
               doc_to_answers="{{ answers.text }}", scorer="token_f1")
    assert (caught.value.line, caught.value.field) == (3, "doc_to_answers")
    assert "task 't'" in str(caught.value)


def test_choice_index_out_of_range_names_the_record(write_jsonl):
    records = NEWS[:3] + [{"text": "odd", "label": 7}] + NEWS[3:]
    with pytest.raises(DataError, match="choice index 7 is out of range for 4") as caught:
        mapped(write_jsonl, records, doc_to_text="{{text}}", doc_to_target="{{label}}",
               doc_to_choice=LABELS)
    assert (caught.value.line, caught.value.field) == (4, "doc_to_target")
    assert "task 't'" in str(caught.value)


@pytest.mark.parametrize(("fields", "problem"), [
    ({"doc_to_text": "{{question", "doc_to_target": "{{answer}}"}, "doc_to_text"),
    ({"doc_to_text": "{{question}}"}, "doc_to_target"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "doc_to_choice": "choices.text"},
     "doc_to_choice"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "answer_pattern": "(("},
     "answer_pattern"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "format": "chat"}, "format"),
    ({"answer_pattern": "#### (.+)"}, "answer_pattern"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "doc_to_answers": "answers.text",
      "scorer": "token_f1"}, "doc_to_answers"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "doc_to_answers": "{{ a.text }}",
      "scorer": "exact_match"}, "doc_to_answers"),
    ({"doc_to_text": "{{q}}", "doc_to_target": "{{a}}", "doc_to_answers": "{{ a.text }}",
      "doc_to_choice": ["x", "y"], "scorer": "token_f1"}, "doc_to_answers"),
])
def test_mapping_mistakes_are_config_errors_before_any_data_is_read(tmp_path, fields, problem):
    task_fields = {"name": "gsm", "train": str(tmp_path / "missing.jsonl"), **fields}
    with pytest.raises(ConfigError) as caught:
        load_config(None, [f"tasks=[{task_fields!r}]"])
    assert caught.value.field == f"tasks[0].{problem}"


def test_templates_cannot_reach_python_internals(write_jsonl):
    with pytest.raises(DataError, match="SecurityError: access to attribute '__class__'"):
        mapped(write_jsonl, GSM8K, doc_to_text="{{ question.__class__.__mro__ }}",
               doc_to_target="{{ answer }}")
    with pytest.raises(DataError, match="SecurityError: .*'append'") as caught:
        mapped(write_jsonl, NEWS, doc_to_text="{{ text }}",
               doc_to_target="{{ [1, 2].append(3) }}{{ label }}", doc_to_choice=LABELS)
    assert caught.value.field == "doc_to_target"


def test_a_column_may_share_a_name_with_a_python_parameter(write_jsonl):
    data = mapped(write_jsonl, [{"self": "x", "args": f"q{i}", "kwargs": str(i)}
                                for i in range(4)],
                  doc_to_text="{{ args }}", doc_to_target="{{ kwargs }}")
    assert sorted(e.prompt for e in data.train + data.eval) == ["q0", "q1", "q2", "q3"]


def test_boxed_filter_reads_math_answers(write_jsonl):
    assert last_boxed(r"so $x = \boxed{\frac{1}{2}}$ and \boxed{3}") == "3"
    assert last_boxed(r"the answer is $\boxed{\frac{1}{2}}$.") == r"\frac{1}{2}"
    assert last_boxed(r"so $\fbox{7}$") == "7" and last_boxed(r"is $\boxed 5$.") == "5"
    for broken in (r"\boxed{1", r"\boxed", "no answer"):
        with pytest.raises(ValueError):
            last_boxed(broken)
    records = [{"problem": f"p{i}", "solution": rf"Thus $\boxed{{{i}^{{2}}}}$."}
               for i in range(5)] + [{"problem": "p", "solution": "no box"}]
    with pytest.raises(DataError, match="no .boxed") as caught:
        mapped(write_jsonl, records, doc_to_text="{{problem}}",
               doc_to_target="{{ solution | boxed }}")
    assert caught.value.line == 6
    data = mapped(write_jsonl, records[:5], doc_to_text="{{problem}}",
                  doc_to_target="{{ solution | boxed }}")
    assert sorted(e.response for e in data.train + data.eval) == [f"{i}^{{2}}" for i in range(5)]
