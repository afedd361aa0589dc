"""The `realtext` suite: eight tasks over real text from Debian packages, not written by this
project. Its data is built by scripts/build_realtext_suite.py and shipped in `realtext_data/`
(train.jsonl and eval.jsonl per task); this module holds each task's instruction, format,
scorer, source and licence.

Tasks are classification of real documents (a package description into its Debian section, a
WordNet definition into its lexicographer category, a man page's NAME line into its section, a
Python documentation paragraph into its library chapter), two generated short answers (the
name a man page paragraph documents, the module a Python documentation paragraph describes;
both written in the paragraph; exact match) and one multiple-choice task (which of four
packages of a section a description belongs to, among descriptions that say their package's
name). benchmarks/realtext_ceiling.py measures how far a learner without pretraining gets
from each task's training records; what the bundled base model saw of these sources in
pretraining is in BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "realtext_data"

DEBIAN_SECTIONS = ("games", "graphics", "mail", "net", "science", "sound")
NOUN_CATEGORIES = ("animal", "artifact", "food", "location", "person", "plant")
VERB_CATEGORIES = ("body", "communication", "consumption", "emotion", "motion", "perception")
MAN_SECTIONS = {"2": "system call", "3": "library function", "4": "file or device",
                "5": "file or device", "7": "overview"}
PYTHON_CHAPTERS = {"Generic Operating System Services": "operating system",
                   "Development Tools": "development tools",
                   "Graphical User Interfaces with Tk": "tk interfaces",
                   "Internet Protocols and Support": "internet protocols",
                   "Data Types": "data types", "Python Runtime Services": "runtime services"}

DEBIAN = ("Debian 12 (bookworm) main archive index, `Packages` (apt-get update)",
          "each package's own licence (DFSG-free); index metadata")
WORDNET = ("WordNet 3.0, `wordnet-base`", "WordNet 3.0 licence")
MANPAGES = ("Linux man-pages 6.03, `manpages` and `manpages-dev` (pages not under the GPL)",
            "per page: Linux-man-pages-copyleft, BSD or MIT")
PYTHON_DOCS = ("Python 3.11 library reference, `python3.11-doc`", "PSF-2.0")


@dataclass(frozen=True)
class RealTextTask:
    """One task: its instruction (`{text}` is the document), record format, scorer, labels
    (None for open answers), source, licence and chance score."""

    prompt: str
    format: str
    scorer: str
    description: str
    source: str
    licence: str
    chance: float
    balanced: bool = True


def _options(labels) -> str:
    labels = list(dict.fromkeys(labels))
    return ", ".join(labels[:-1]) + " or " + labels[-1]


TASKS: dict[str, RealTextTask] = {
    "debian_sections": RealTextTask(
        "Which section of the Debian archive does this package belong to? Answer with "
        f"{_options(DEBIAN_SECTIONS)}.\n\nDescription: {{text}}\nSection:",
        "prompt_response", "exact_match",
        "a Debian package's one-line description -> its archive section (6)", *DEBIAN,
        chance=1 / 6),
    "wordnet_nouns": RealTextTask(
        "What does this dictionary definition describe? Answer with "
        f"{_options(NOUN_CATEGORIES)}.\n\nDefinition: {{text}}\nAnswer:",
        "prompt_response", "exact_match",
        "a WordNet noun definition -> its lexicographer category (6)", *WORDNET, chance=1 / 6),
    "manpage_sections": RealTextTask(
        "Here is the NAME line of a Linux manual page. Does the page document a "
        f"{_options(dict.fromkeys(MAN_SECTIONS.values()))}?\n\nNAME: {{text}}\nAnswer:",
        "prompt_response", "exact_match",
        "a Linux man page's NAME line -> system call, library function, file or device, "
        "overview", *MANPAGES, chance=1 / 4),
    "python_doc_topics": RealTextTask(
        "This paragraph is from the Python standard library reference. Which chapter is it "
        f"from: {_options(PYTHON_CHAPTERS.values())}?\n\nParagraph: {{text}}\nChapter:",
        "prompt_response", "exact_match",
        "a Python library reference paragraph -> its chapter (6)", *PYTHON_DOCS, chance=1 / 6),
    "debian_packages": RealTextTask(
        "A Debian package is described as follows.\n\nDescription: {text}\n"
        "Which package is it?\nPackage:",
        "multiple_choice", "multiple_choice",
        "a Debian package's description that says its name -> which of four packages of its "
        "section", *DEBIAN,
        chance=1 / 4),
    "wordnet_verbs": RealTextTask(
        "What kind of action does this definition of a verb describe? Answer with "
        f"{_options(VERB_CATEGORIES)}.\n\nDefinition: {{text}}\nAnswer:",
        "prompt_response", "exact_match",
        "a WordNet verb definition -> its lexicographer category (6)", *WORDNET, chance=1 / 6),
    "manpage_names": RealTextTask(
        "Read this paragraph from a Linux manual page and give the name of the function, "
        "command or interface it documents.\n\nParagraph: {text}\nName:",
        "prompt_response", "exact_match",
        "a man page's first DESCRIPTION paragraph -> the page's name (generated)", *MANPAGES,
        chance=0.0, balanced=False),
    "python_doc_modules": RealTextTask(
        "Which module of the Python standard library does this documentation paragraph "
        "describe?\n\nParagraph: {text}\nModule:",
        "prompt_response", "exact_match",
        "a Python library reference paragraph that names its module -> the module's name "
        "(generated)", *PYTHON_DOCS,
        chance=0.0, balanced=False),
}
