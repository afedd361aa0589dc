"""Readers of the real text behind the `realtext` suite, each from its installed Debian format.

- Debian's package index (`Packages` stanzas, read from apt's lists after `apt-get update`):
  package name, section and one-line description.
- WordNet 3.0 (`wordnet-base`): each synset's lexicographer file (`noun.animal`, ...) and its
  definition, from `data.noun` / `data.verb` and `lexnames`.
- The Linux man-pages project (`manpages`, `manpages-dev`): each page's section, the NAME line
  and the first paragraph of DESCRIPTION, from the roff source.
- The Python 3.11 documentation (`python3.11-doc`): each library page's module, the chapter of
  the library reference that lists it, and its prose paragraphs.

Every reader takes the path of its source so tests can feed it small files in the same format.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from base_model_corpus import SourceMissing, rst_paragraphs, wordnet_synset_lines

APT_LISTS = Path("/var/lib/apt/lists")
WORDNET_DIR = Path("/usr/share/wordnet")
MAN_DIR = Path("/usr/share/man")
MAN_PARAGRAPHS = 6  # DESCRIPTION paragraphs kept per page
PYTHON_LIBRARY_DIR = Path("/usr/share/doc/python3.11/html/_sources/library")


# WordNet's lexicographer files by number, as lexnames(5WN) lists them (Debian's wordnet-base
# ships the man page, not the `lexnames` file).
LEXICOGRAPHER_FILES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl").split()


@dataclass(frozen=True)
class Document:
    """One real document: where it comes from (`key`, unique in its source), its text and the
    labels the suite's tasks ask for."""

    key: str
    text: str
    labels: dict


def debian_packages(lists: Path = APT_LISTS) -> Iterator[Document]:
    """Every package of Debian's main archive index: labels `package` and `section`."""
    paths = sorted(lists.glob("*_dists_bookworm_main_binary-amd64_Packages*"))
    if not paths:
        raise SourceMissing(f"no Debian package index under {lists}: apt-get update")
    yield from parse_packages(_read_index(paths[0]))


def parse_packages(text: str) -> Iterator[Document]:
    """Documents from the stanzas of a `Packages` file (RFC 822 fields, blank-line separated)."""
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", stanza, flags=re.MULTILINE))
        if "Package" in fields and "Description" in fields and "Section" in fields:
            yield Document(key=fields["Package"], text=fields["Description"].strip(),
                           labels={"package": fields["Package"],
                                   "section": fields["Section"].split("/")[-1]})


def _read_index(path: Path) -> str:
    if path.suffix == ".lz4":
        return subprocess.run(["lz4cat", str(path)], check=True, capture_output=True,
                              text=True).stdout
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


def wordnet_synsets(part: str, directory: Path = WORDNET_DIR) -> Iterator[Document]:
    """Every synset of `data.<part>` with its first definition: labels `category` (the
    lexicographer file without its part of speech, e.g. `animal`) and `words`."""
    for synset in wordnet_synset_lines(part, directory):
        if synset.definitions:
            category = LEXICOGRAPHER_FILES[synset.lexicographer_file].split(".", 1)[1]
            yield Document(key=f"{part}:{synset.offset}", text=synset.definitions[0],
                           labels={"category": category, "words": synset.words})


def man_pages(sections: tuple[str, ...] = ("2", "3", "4", "5", "7"),
              directory: Path = MAN_DIR) -> Iterator[Document]:
    """The Linux man-pages project's pages (their `.TH` line names the project) in these
    sections under a licence that is not the GPL (the project ships no GPL text): text = the
    first paragraph of DESCRIPTION; labels `section`, `name`, `names`, `summary` (the NAME
    line after the dash) and `licence` (the page's SPDX identifier)."""
    found = False
    for section in sections:
        for path in sorted((directory / f"man{section}").glob("*.gz")):
            page = parse_man_page(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
            if page is not None:
                found = True
                if not page.labels["licence"].startswith("GPL"):
                    yield page
    if not found:
        raise SourceMissing(f"no Linux man-pages under {directory}: "
                            "apt-get install manpages manpages-dev")


def parse_man_page(source: str) -> Document | None:
    """A page of the Linux man-pages project from its roff source, or None (a `.so` link, a page
    of another project, a page without NAME or DESCRIPTION prose)."""
    header = re.search(r'^\.TH\s+"?([^\s"]+)"?\s+"?(\w+)"?.*Linux man-pages', source,
                       flags=re.MULTILINE)
    if header is None:
        return None
    sections = _man_sections(source)
    if "NAME" not in sections or "DESCRIPTION" not in sections:
        return None
    name_line = " ".join(_roff_text(line) for line in sections["NAME"])
    if " - " not in name_line:
        return None
    names_part, summary = name_line.split(" - ", 1)
    names = [name.strip() for name in names_part.split(",") if name.strip()]
    paragraphs = [p for p in _paragraphs(sections["DESCRIPTION"]) if len(p.split()) >= 8]
    if not paragraphs:
        return None
    licence = re.search(r"SPDX-License-Identifier:\s*(\S+)", source)
    return Document(key=f"{header.group(1)}.{header.group(2)}", text=paragraphs[0],
                    labels={"section": header.group(2)[0], "name": header.group(1),
                            "names": names, "summary": summary.strip(),
                            "licence": licence.group(1) if licence else "unknown",
                            "paragraphs": paragraphs[:MAN_PARAGRAPHS]})


def _man_sections(source: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in source.splitlines():
        if line.startswith(".SH"):
            current = line[3:].strip().strip('"').upper()
            sections[current] = []
        elif current is not None and not line.startswith(('.\\"', "'\\\"")):
            sections[current].append(line)
    return sections


def _paragraphs(lines: list[str]) -> list[str]:
    """The running-text paragraphs of a section (text between paragraph and layout macros)."""
    paragraphs, words = [], []
    for line in lines:
        if re.match(r"^\.(PP|P|LP|TP|IP|SS|in|RS|RE|nf|fi|EX|EE|TS|TE|HP|\s*$)", line):
            if words:
                paragraphs.append(re.sub(r"\s+", " ", " ".join(words)).strip())
            words = []
            continue
        words.append(_roff_text(line))
    if words:
        paragraphs.append(re.sub(r"\s+", " ", " ".join(words)).strip())
    return [paragraph for paragraph in paragraphs if paragraph]


_ROFF_ESCAPES = {r"\-": "-", r"\(aq": "'", r"\(dq": '"', r"\(em": " - ", r"\(en": "-",
                 r"\e": "\\", r"\ ": " ", r"\&": "", r"\~": " ", r"\(rq": '"', r"\(lq": '"'}


def _roff_text(line: str) -> str:
    """The words of one roff line: font macros (`.BR open (2)`) joined, escapes made plain."""
    macro = re.match(r"^\.(B|I|BR|RB|IR|RI|BI|IB|SM|SB)\s+(.*)$", line)
    if macro:
        arguments = re.findall(r'"([^"]*)"|(\S+)', macro.group(2))
        line = "".join(quoted or bare for quoted, bare in arguments)
        if macro.group(1) in ("B", "I", "SM", "SB"):
            line = " ".join(quoted or bare for quoted, bare in arguments)
    elif line.startswith("."):
        return ""
    for escape, plain in _ROFF_ESCAPES.items():
        line = line.replace(escape, plain)
    line = re.sub(r"\\f[BIRP]|\\f\(\w\w|\\f\[\w*\]|\\c", "", line)
    return re.sub(r"\\\*?\(\w\w|\\\[\w+\]", "", line).strip()


def python_library_pages(directory: Path = PYTHON_LIBRARY_DIR) -> Iterator[Document]:
    """One document per prose paragraph of a library module's page: labels `module` (its
    `.. module::` directive) and `chapter` (the title of the library chapter whose toctree
    lists the page)."""
    index = directory / "index.rst.txt"
    if not index.is_file():
        raise SourceMissing(f"the Python documentation is missing ({directory}): "
                            "apt-get install python3.11-doc")
    for chapter_file in _toctree(index.read_text(encoding="utf-8")):
        chapter_path = directory / f"{chapter_file}.txt"
        if not chapter_path.is_file():
            continue
        chapter_text = chapter_path.read_text(encoding="utf-8")
        title = _rst_title(chapter_text)
        for page_file in _toctree(chapter_text):
            page_path = directory / f"{page_file}.txt"
            if not page_path.is_file():
                continue
            page = page_path.read_text(encoding="utf-8", errors="replace")
            module = re.search(r"^\.\. module:: (\S+)", page, flags=re.MULTILINE)
            if module is None or title is None:
                continue
            for number, paragraph in enumerate(rst_paragraphs(page)):
                yield Document(key=f"{page_file}#{number}", text=paragraph,
                               labels={"module": module.group(1), "chapter": title})


def _toctree(text: str) -> list[str]:
    """The files a reStructuredText page's toctree directives list (`text.rst`, ...)."""
    files = []
    for block in re.findall(r"^\.\. toctree::\n((?:[ \t]+.*\n|\n)*)", text, flags=re.MULTILINE):
        files += [line.strip() for line in block.splitlines()
                  if line.strip().endswith(".rst") and not line.strip().startswith(":")]
    return files


def _rst_title(text: str) -> str | None:
    """The first over- and underlined title of a page."""
    match = re.search(r"^([*#=]{3,})\n\s*(.+?)\s*\n\1$", text, flags=re.MULTILINE)
    return match.group(2) if match else None
