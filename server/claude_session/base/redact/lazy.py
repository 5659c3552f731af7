"""A regular expression compiled the first time it is used. Standard library only.

A hook is a new process each time, and most texts reach few rules: compiling every rule at
import cost the hooks that redact (PreCompact, SessionEnd) more than the scan itself."""

from __future__ import annotations

import re
from collections.abc import Iterator


class Lazy:
    """Stands for ``re.compile(source, flags)``, compiled at its first use."""

    __slots__ = ("_flags", "_pattern", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._pattern: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._pattern is None:  # two threads may both compile it: the same pattern either way
            self._pattern = re.compile(self._source, self._flags)
        return self._pattern

    def match(self, text: str, pos: int = 0, endpos: int = 2**62) -> re.Match[str] | None:
        return self.compiled.match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = 2**62) -> re.Match[str] | None:
        return self.compiled.fullmatch(text, pos, endpos)

    def search(self, text: str, pos: int = 0, endpos: int = 2**62) -> re.Match[str] | None:
        return self.compiled.search(text, pos, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = 2**62) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text, pos, endpos)

    def findall(self, text: str, pos: int = 0, endpos: int = 2**62) -> list[str]:
        return self.compiled.findall(text, pos, endpos)

    def split(self, text: str) -> list[str]:
        return self.compiled.split(text)
