"""A draft survey from a blog post: the questions its author asks the readers at
the end of the post, one question each, in the post's order (``survey draft``).

No HTTP and no SQL here: the post comes in as text or HTML (``web``-free
fetching is in ``survey.fetch``), the draft goes out as a survey file that
``survey load`` accepts unchanged.

How a post is read:

- HTML: the article's ``<h1>`` (else ``<title>`` without the site's name) is
  the title, ``<html lang>`` the language; paragraphs are the text of block
  elements, leaving out scripts, navigation, headers and footers, forms, and
  anything marked as comments, sharing, tags, bylines or related posts.
  Plain text: paragraphs are separated by blank lines; the title is the first
  line that is not a byline ("Blogger Jane Doe", "Posted by ...", "By ...").
- The closing part is the run of paragraphs at the end that ask something,
  read backwards past the blog's own furniture ("Leave a Reply", "Your email
  address will not be published", share buttons): questions earlier in the
  post are part of its story, not prompts.
- A prompt is a question sentence (``?``, ``؟``, French `` ?``, Spanish
  ``¿...?``).  A closed one (it starts with a form of be/do/have or a modal,
  or their es/fr/ar equivalents) becomes ``yes_no``; an open one ``long_text``.
  An open prompt right after a closed one in the same paragraph is its
  follow-up: shown when the answer was yes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import yaml

from survey.definitions import MAX_FILE_BYTES

MAX_POST_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 200  # nesting of HTML elements kept track of; deeper markup is flattened
SIGN_OFF_LENGTH = 200  # a shorter paragraph after the questions may be a sign-off


class DraftError(ValueError):
    """A post that cannot become a draft, said in words for the person."""


@dataclass(frozen=True)
class Prompt:
    text: str
    closed: bool
    paragraph: int


# --- Reading the post -------------------------------------------------------------

_BLOCKS = {
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "figcaption",
    "td", "th", "pre", "div", "section", "article", "br",
}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                 "template", "svg", "button", "select", "textarea", "iframe"}  # fmt: skip
_SKIPPED_MARKS = re.compile(
    r"comment|respond|reply|share|sharing|sharedaddy|social|tags?\b|tag-|byline|author|"
    r"related|jp-relatedposts|sidebar|widget|post-meta|entry-meta|navigation|breadcrumb|"
    r"subscribe|newsletter",
    re.IGNORECASE,
)
_TITLE_MARKS = re.compile(r"\b(post|entry|article)-title\b|\bp-name\b")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


class _PostParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.title_tag = ""
        self.h1: str | None = None
        self.paragraphs: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self._buffer: list[str] = []
        self._in_title = False
        self._in_h1 = False
        self._h1_text: list[str] = []
        # The post's own title, marked as such by the blog (Blogger puts the
        # blog's name in <h1> and the post's in <h3 class="post-title">).
        self.marked_title: str | None = None
        self._in_marked: str | None = None
        self._marked_text: list[str] = []

    @property
    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html" and values.get("lang"):
            self.lang = (values["lang"] or "").split("-")[0].lower()
        if tag == "title":
            self._in_title = True
        if tag in _BLOCKS:
            self._flush()
        if tag in _VOID:
            return
        marks = " ".join(filter(None, (values.get("class"), values.get("id"), values.get("role"))))
        skipped = tag in _SKIPPED_TAGS or bool(marks and _SKIPPED_MARKS.search(marks))
        if len(self._stack) < MAX_DEPTH:
            self._stack.append((tag, skipped))
        if tag == "h1" and self.h1 is None and not self._skipping:
            self._in_h1 = True
        if (
            tag in ("h1", "h2", "h3")
            and self.marked_title is None
            and _TITLE_MARKS.search(values.get("class") or "")
        ):
            self._in_marked = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self.h1 = _clean(" ".join(self._h1_text))
        if tag == self._in_marked:
            self._in_marked = None
            self.marked_title = _clean(" ".join(self._marked_text))
        if tag in _BLOCKS:
            self._flush()
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_tag += data
            return
        if self._skipping:
            return
        if self._in_h1:
            self._h1_text.append(data)
        if self._in_marked:
            self._marked_text.append(data)
        self._buffer.append(data)

    def _flush(self) -> None:
        text = _clean(" ".join(self._buffer))
        self._buffer = []
        if text:
            self.paragraphs.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


@dataclass(frozen=True)
class Post:
    title: str
    lang: str | None
    paragraphs: list[str]


_BYLINE = re.compile(r"^(blogger|posted by|written by|by|por|par|publié par|بقلم|كتبه)\b", re.I)
_SITE_SEPARATORS = re.compile(r"\s+[|–—:·-]\s+")
_HASHTAGS = re.compile(r"(\s+#[\w-]+)+\s*$")


def read_post(content: bytes | str, *, html: bool | None = None) -> Post:
    """The post's title, language and paragraphs, from HTML or plain text."""
    if isinstance(content, bytes):
        if len(content) > MAX_POST_BYTES:
            raise DraftError("the post is larger than 2 MB")
        if b"\x00" in content[:8192]:
            raise DraftError("this is not a text or HTML file")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("latin-1")
    else:
        text = content
    if html is None:
        html = bool(re.search(r"<(html|body|article|p|div|h1)\b", text[:65536], re.I))
    if html:
        parser = _PostParser()
        parser.feed(text)
        parser.close()
        title = (
            parser.marked_title or parser.h1 or _SITE_SEPARATORS.split(_clean(parser.title_tag))[0]
        )
        paragraphs = [p for p in parser.paragraphs if p not in (parser.h1, parser.marked_title)]
        return Post(_HASHTAGS.sub("", title).strip(), parser.lang, paragraphs)
    blocks = [_clean(block) for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    blocks = [block for block in blocks if block]
    title = ""
    for index, block in enumerate(blocks):
        if not _BYLINE.match(block):
            title = block
            blocks = blocks[index + 1 :]
            break
    return Post(_HASHTAGS.sub("", title).strip(), None, blocks)


def _clean(text: str) -> str:
    return " ".join(text.split())


# --- Finding the prompts -------------------------------------------------------------

_FURNITURE = re.compile(
    r"^(leave a (reply|comment)|your email address will not be published|required fields are "
    r"marked|share this|like this|related|posted in|tags?:|filed under|comments?\b|"
    r"deja (un|una) (respuesta|comentario)|tu dirección de correo|laisser un commentaire|"
    r"votre adresse (e-mail|de messagerie|courriel) ne sera pas publiée|"
    r"اترك تعليقا|اترك تعليقًا|لن يتم نشر عنوان بريدك)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?؟…]*?(?:\?|؟|[.!…]+|$)", re.S)


def _sentences(paragraph: str) -> list[str]:
    # Spanish opens a question with ¿: a sentence may not end before its ?.
    parts = []
    for match in _SENTENCE.finditer(paragraph):
        text = match.group(0).strip()
        if text:
            parts.append(text)
    return parts


def _is_question(sentence: str) -> bool:
    return sentence.endswith(("?", "؟"))


_CLOSED = {
    "en": re.compile(
        r"^(am|are|is|was|were|be|do|does|did|have|has|had|would|will|could|can|should|shall|"
        r"may|might|must|won't|don't|doesn't|didn't|haven't|hasn't|isn't|aren't|wasn't|"
        r"weren't|wouldn't|can't|couldn't|shouldn't)\b",
        re.I,
    ),
    "fr": re.compile(
        r"^(est-ce que|est-ce qu'|est-ce qu’|\w+-(vous|tu|il|elle|on|ils|elles|nous)\b|"
        r"\w+-t-(il|elle|on)\b)",
        re.I,
    ),
    "ar": re.compile(r"^(هل|أ(?=[\u0621-\u064a]{2,}))"),
}
_OPEN = {
    "es": re.compile(
        r"^(qué|que|cómo|como|cuál|cuáles|por qué|dónde|cuándo|quién|quiénes|cuánto|cuánta|"
        r"cuántos|cuántas|cuéntanos|cuéntenos|dinos|díganos)\b",
        re.I,
    ),
    "fr": re.compile(
        r"^(que|qu'|qu’|quel|quelle|quels|quelles|comment|pourquoi|où|quand|qui|combien|"
        r"dites-nous|racontez)",
        re.I,
    ),
    "ar": re.compile(r"^(ماذا|ما|كيف|لماذا|أين|متى|من|كم|أي|حدثنا|أخبرنا)"),
}


def is_closed(question: str, lang: str) -> bool:
    """A yes/no question (closed), or one that asks for words (open)."""
    text = question.lstrip("¿¡«“\"' ").strip()
    if lang == "es":
        return not _OPEN["es"].match(text)
    if lang == "fr":
        return bool(_CLOSED["fr"].match(text)) and not _OPEN["fr"].match(text)
    if lang == "ar":
        return bool(_CLOSED["ar"].match(text)) and not _OPEN["ar"].match(text)
    return bool(_CLOSED["en"].match(text))


def find_prompts(paragraphs: list[str], lang: str) -> list[Prompt]:
    """The questions of the closing run of asking paragraphs, in order."""
    closing: list[tuple[int, str]] = []
    for index in range(len(paragraphs) - 1, -1, -1):
        paragraph = paragraphs[index]
        if _FURNITURE.match(paragraph):
            continue  # the blog's comment form, share buttons, tags
        if any(_is_question(sentence) for sentence in _sentences(paragraph)):
            closing.append((index, paragraph))
        elif closing or len(paragraph) >= SIGN_OFF_LENGTH:
            break  # the story before the closing questions
        # else: a short sign-off after the questions ("Thanks for reading!")
    prompts = []
    for index, paragraph in reversed(closing):
        for sentence in _sentences(paragraph):
            if _is_question(sentence):
                prompts.append(Prompt(sentence, is_closed(sentence, lang), index))
    return prompts


def detect_language(texts: list[str]) -> str:
    joined = " ".join(texts)
    if re.search(r"[\u0600-\u06ff]", joined):
        return "ar"
    if "¿" in joined or re.search(
        r"\b(qué|cómo|usted|ustedes|visitas|bibliotecas)\b", joined, re.I
    ):
        return "es"
    if re.search(r"\s\?|\b(vous|est-ce|êtes|avez|pourquoi|quelles?)\b", joined, re.I):
        return "fr"
    return "en"


# --- Writing the draft -----------------------------------------------------------------

_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the you your yours we our us i me my is are am was were be been do does did have "
        "has had would will could can should shall may might must what how why which where when "
        "who whom tell to of in on for at by with from and or but it its this that these those "
        "there any some ever go going about into than then so as if not no yes "
        # es, fr: the little words a key does without
        "el la los las un una unos unas de del al en y o que es son eres por para con su sus "
        "tu tus te se lo le les nos vous tu te d l qu y du des et ou est sont ce cette ces "
        "pour avec votre vos leur leurs dans sur au aux",
    )
)
_INTRO = {
    "en": "Questions from our post “{title}”. Tell us here; it takes a few minutes.",
    "es": "Preguntas de nuestra entrada «{title}». Cuéntenos aquí; lleva unos minutos.",
    "fr": "Les questions de notre billet « {title} ». Répondez ici ; cela prend quelques minutes.",
    "ar": "أسئلة من تدوينتنا «{title}». أخبرنا هنا؛ يستغرق الأمر بضع دقائق.",
}


def draft(post: Post, *, slug: str | None = None, lang: str | None = None) -> dict[str, Any]:
    """The survey a post's closing prompts make (a survey file's document)."""
    language = lang or (post.lang if post.lang in _INTRO else None)
    language = language or detect_language([*post.paragraphs[-6:], post.title])
    prompts = find_prompts(post.paragraphs, language)
    if not prompts:
        raise DraftError(
            "no questions to the readers were found at the end of the post: a draft needs "
            "at least one question sentence (ending in ?) in its closing paragraphs"
        )
    title = post.title or prompts[0].text
    questions: list[dict[str, Any]] = []
    keys: set[str] = set()
    previous: tuple[Prompt, str] | None = None
    for number, prompt in enumerate(prompts, start=1):
        key = make_key(prompt.text, keys, number)
        question: dict[str, Any] = {
            "key": key,
            "type": "yes_no" if prompt.closed else "long_text",
            "label": prompt.text,
        }
        if (
            not prompt.closed
            and previous is not None
            and previous[0].closed
            and previous[0].paragraph == prompt.paragraph
        ):
            question["show_if"] = {previous[1]: ["yes"]}
        questions.append(question)
        previous = (prompt, key)
    return {
        "slug": slug or _slug(title),
        "title": title,
        "lang": language,
        "intro": _INTRO[language].format(title=title),
        "questions": questions,
    }


def draft_yaml(document: dict[str, Any]) -> str:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    assert len(text.encode()) <= MAX_FILE_BYTES
    return text


def make_key(text: str, taken: set[str], number: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.findall(r"[a-z][a-z0-9]*", ascii_text) if w not in _STOPWORDS]
    key = "_".join(words[:3])[:40].strip("_") or f"question_{number}"
    candidate, suffix = key, 2
    while candidate in taken:
        candidate, suffix = f"{key}_{suffix}", suffix + 1
    taken.add(candidate)
    return candidate


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60].strip("-")
    return slug or "survey-from-a-post"
