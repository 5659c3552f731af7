"""``base.packedrefs``: a ref in a large ``packed-refs`` is found with a few small reads, never
by reading the file whole (N11 of redteam-2), and always the same answer as git's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claude_session.base import gitread, packedrefs
from helpers.gitrepo import commit_file, git, make_repo

HEADER = "# pack-refs with: peeled fully-peeled sorted \n"


def big_packed_refs(repo: Path, count: int, *, header: str = HEADER) -> dict[str, str]:
    """``count`` tags (every 7th annotated, with its peeled line) and a branch only in
    ``packed-refs``, written sorted as git writes it; the refs and their ids."""
    first = git(repo, "rev-parse", "HEAD").strip()
    second = commit_file(repo, "b.txt", "b\n")
    git(repo, "tag", "-a", "-m", "annotated", "real-annotated", first)
    tag_object = git(repo, "rev-parse", "real-annotated").strip()
    refs: dict[str, str] = {"refs/heads/packed-only": second}
    for n in range(count):
        refs[f"refs/tags/t{n:07d}"] = tag_object if n % 7 == 0 else (first, second)[n % 2]
    lines = [header]
    for name in sorted(refs):
        lines.append(f"{refs[name]} {name}\n")
        if refs[name] == tag_object:
            lines.append(f"^{first}\n")
    git(repo, "tag", "-d", "real-annotated")
    (repo / ".git" / "packed-refs").write_text("".join(lines))
    return refs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def test_a_large_file_is_searched_in_a_few_small_reads(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N11: 200,000 refs (about 13 MB): each lookup reads a few tens of kB."""
    refs = big_packed_refs(repo, 200_000)
    path = repo / ".git" / "packed-refs"
    assert path.stat().st_size > 10_000_000
    read: list[int] = []
    real_pread = os.pread

    def counting(fd: int, size: int, offset: int) -> bytes:
        data = real_pread(fd, size, offset)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting)
    names = sorted(refs)
    for name in [names[0], names[1], names[-1], names[len(names) // 2], *names[::9973]]:
        read.clear()
        assert packedrefs.lookup(path, name) == refs[name], name
        assert sum(read) < 200_000, (name, sum(read))
    for missing in ["refs/tags/t", "refs/tags/t0000000x", "refs/tags/zzz", "refs/heads/a"]:
        assert packedrefs.lookup(path, missing) is None


def test_every_answer_is_git_s(repo: Path) -> None:
    refs = big_packed_refs(repo, 30_000)
    path = repo / ".git" / "packed-refs"
    names = sorted(refs)
    for name in names[::997] + names[-3:]:
        assert packedrefs.lookup(path, name) == git(repo, "rev-parse", name).strip()


def test_head_on_a_branch_known_only_to_a_large_packed_refs(repo: Path) -> None:
    """The hooks' and the status line's HEAD (``gitread.git_head``)."""
    refs = big_packed_refs(repo, 100_000)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/packed-only\n")
    head = gitread.git_head(repo)
    assert head is not None and head[1:] == ("packed-only", refs["refs/heads/packed-only"])


def test_a_large_file_that_is_not_said_to_be_sorted_is_not_read(repo: Path) -> None:
    big_packed_refs(repo, 100_000, header="# pack-refs with: peeled \n")
    path = repo / ".git" / "packed-refs"
    assert packedrefs.lookup(path, "refs/heads/packed-only") is None


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_packed_refs_that_is_not_a_file_is_not_read(repo: Path, kind: str) -> None:
    path = repo / ".git" / "packed-refs"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    assert packedrefs.lookup(path, "refs/heads/main") is None
    assert gitread.git_head(repo) is not None  # HEAD's loose ref still answers


def test_a_small_file_is_read_whole(repo: Path) -> None:
    git(repo, "tag", "v1")
    git(repo, "pack-refs", "--all")
    path = repo / ".git" / "packed-refs"
    assert path.stat().st_size < 4096
    assert packedrefs.lookup(path, "refs/tags/v1") == git(repo, "rev-parse", "v1").strip()
