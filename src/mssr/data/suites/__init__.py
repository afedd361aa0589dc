"""Built-in task suites, generated deterministically from a seed.

Suite `default`, order `default` (the demo uses the first five):
  1. word_problems      two-step arithmetic stories, answered with the working (numeric)
  2. country_capitals   capitals of made-up countries (multiple choice)
  3. review_sentiment   review sentence -> positive / negative (exact match)
  4. reverse_words      two words in reverse order (exact match)
  5. chat_opposites     chat: the opposite of a word (exact match)
  6. count_color        how many items of a color are in a list (numeric)
  7. country_languages  languages of the same made-up countries (multiple choice)
  8. topic_label        the same kind of review sentence -> animal / food / object / place
  9. pluralize          plural of every noun in a list (rouge_l)
 10. chat_arithmetic    chat: a + b - c (numeric)
 11. creature_habitats  where made-up creatures live (multiple choice)
Orders `reverse` (11 .. 1) and `shuffled` (a fixed permutation) test order robustness. Tasks
share surface forms with different mappings (Review: -> Sentiment/Topic, word lists -> reverse
/ plural / count, countries -> capital / language) so sequential fine-tuning forgets.
"""

from mssr.data.suites.catalog import SUITES, SuiteInfo, TaskInfo, list_suites
from mssr.data.suites.materialize import check_suite, materialize, write_jsonl

__all__ = ["SUITES", "SuiteInfo", "TaskInfo", "check_suite", "list_suites", "materialize",
           "write_jsonl"]
