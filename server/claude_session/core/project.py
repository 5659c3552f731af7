"""Which project a folder belongs to: its git top level (or the folder itself outside git), its
safe name, and its repository identity across machines (origin's URL, normalised)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claude_session.base import gitread
from claude_session.core import repository
from claude_session.paths import project_name, real_path


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    in_git: bool
    origin_url: str | None = None  # credentials stripped
    repository: str | None = None  # normalised: host/owner/repo

    @property
    def key(self) -> str:
        return str(self.root)

    @property
    def identity(self) -> str:
        """What tells this project from every other one: the repository across machines, or,
        without an ``origin``, the folder (never the name: ``my app`` and ``my-app`` both clean
        up to ``my-app``)."""
        return self.repository or self.root.as_uri()

    @property
    def record_url(self) -> str:
        """The repository URL a session record carries (the folder's URL without an origin),
        so the tracker keeps same-named projects apart."""
        return self.origin_url or self.root.as_uri()


def resolve(cwd: Path | str) -> Project:
    folder = Path(real_path(cwd))  # a linked folder is the folder it points to
    root = repository.find_root(folder)
    if root is None:
        return Project(root=folder, name=project_name(folder), in_git=False)
    origin = gitread.origin_url(root)
    return Project(
        root=root,
        name=project_name(root),
        in_git=True,
        origin_url=origin,
        repository=gitread.normalize_remote(origin),
    )
