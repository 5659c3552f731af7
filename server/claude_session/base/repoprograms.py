"""Filter programs the repository's own config names, and how every git command we run keeps
them from running (issue 25, redteam-2 G4). Standard library only: the hooks use it.

A filter driver (``filter.NAME.clean``, ``.smudge``, ``.process``) set in ``.git/config``, in a
file it includes, in ``config.worktree`` or in a submodule's config, and named by
``.gitattributes`` (``* filter=NAME``), runs on ``git status``, ``add``, ``checkout``: the
project folder, which may come from a stranger, would run a program of its choosing. The rule:

- a program named at the repository's level (git's ``local`` and ``worktree`` scopes) does not
  run on our calls: its key is given, on our command line, the value the user's own
  (global/system) config has, or none (an empty value: git runs no program), and
  ``required=false`` so that a read still answers;
- a driver the user set up in their global or system config (git-lfs's) runs as it does for
  them;
- a write (``add``, ``commit``, ``checkout``) in a repository whose own filter was switched off
  is refused by the core instead (``Programs.refused``): without the filter, git would commit
  the files unfiltered (git-crypt's plain text, LFS's whole files), which the person's own
  ``git commit`` would not.

The other git settings that name a program, and what our calls do with each (git 2.39):

==================================  ============================================================
``core.fsmonitor``                  off on every call (``gitread.NO_PROGRAMS``)
``log.showSignature``/``gpg.*``     no signature is checked on a read (``NO_PROGRAMS``,
                                    ``--no-show-signature``); our commits sign as the user's
                                    ``commit.gpgSign`` says, with the ``gpg.program`` git finds:
                                    the commit is the user's, like its hooks (below)
``core.pager``, ``pager.*``         ``cat``; never a terminal either, so no pager runs
``diff.external``, ``diff.N.*``     ``--no-ext-diff --no-textconv`` on every diff we run (none
                                    prints a patch, which is what runs them)
``merge.N.driver``                  never run: we merge nothing (no merge, rebase, stash apply,
                                    ``checkout -m``)
``core.editor``, ``sequence.editor`` never run: every commit has ``-m``, nothing is interactive
core.hooksPath / .git/hooks,        kept, a documented decision: they run on the user's own
``credential.helper``,              commit and push (``end``, a WIP commit, the switch of
``core.sshCommand``,                ``start``), and skipping them could skip the user's own
``core.askPass``, ``core.gitProxy`` scanners. Someone who can write ``.git/config`` can set
                                    ``core.hooksPath`` too: a commit or push of ours in a folder
                                    from a stranger runs what its hooks say, as git's own would
==================================  ============================================================

Finding the names costs no process in the common case: git is asked (``git config
--show-scope``, which resolves includes and conditions as git itself does) only when one of the
repository's config files mentions ``filter`` or ``include`` at all.
"""

from __future__ import annotations

import os
import stat
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

#: the keys asked for: every filter driver setting, and one key every repository has (git
#: config exits 1 when nothing matches, which must not read as a failure)
QUERY = (
    "config",
    "-z",
    "--show-scope",
    "--get-regexp",
    r"^(filter\..*|core\.repositoryformatversion)$",
)
_PROGRAM_FIELDS = ("clean", "smudge", "process")
_REPOSITORY_SCOPES = ("local", "worktree")
# a config file that says neither cannot define a filter driver, nor include a file that does
_MENTIONS = (b"filter", b"include")
_MAX_CONFIG_BYTES = 1 << 20
_MAX_SUBMODULES = 256
_READ_ONLY = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


class Programs(namedtuple("Programs", "options refused")):
    """The settings that keep them off ((key, value) pairs), and the names of the repository's
    filter drivers they switch off (a write must not go on without them)."""

    __slots__ = ()

    def settings(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The settings as the variables to add to ``environ``: ``GIT_CONFIG_KEY_n`` and
        ``GIT_CONFIG_VALUE_n`` after any it has. Not ``-c key=value``: git cuts that at the
        first ``=``, and a driver's name may hold one (``[filter "a=b"]``)."""
        if not self.options:
            return {}
        try:
            count = max(int(environ.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
        except ValueError:
            count = 0
        added = {"GIT_CONFIG_COUNT": str(count + len(self.options))}
        for index, (key, value) in enumerate(self.options, start=count):
            added[f"GIT_CONFIG_KEY_{index}"] = key
            added[f"GIT_CONFIG_VALUE_{index}"] = value
        return added


NONE = Programs((), ())

#: runs ``git [--git-dir=X] <QUERY>``; its NUL-separated records, or None on failure
Runner = Callable[["Path | None"], "list[str] | None"]


# what _read gives for a file that is there but not a small regular one: a text that asks git
_ODD = _MENTIONS[0]


def _read(path: Path) -> bytes | None:
    """A config-sized regular file's bytes; None when there is none; ``_ODD`` (which reads as
    naming a filter) when it is unreadable, not a regular file (a FIFO) or too big."""
    try:
        fd = os.open(path, _READ_ONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return _ODD
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _ODD
        data = os.read(fd, _MAX_CONFIG_BYTES + 1)
    except OSError:
        return _ODD
    finally:
        os.close(fd)
    return _ODD if len(data) > _MAX_CONFIG_BYTES else data


def _mentions(path: Path) -> bool:
    """Whether a config file may define or include a filter driver (an odd one: assumed so,
    and git is asked)."""
    data = _read(path)
    if data is None:
        return False
    text = data.lower()
    return any(word in text for word in _MENTIONS)


def _submodule_dirs(common: Path, root: Path | None) -> list[Path]:
    """The git folders of submodules: absorbed under ``modules/`` (nested ones included), and
    those kept in their own folder (``PATH/.git`` for a ``path = PATH`` of ``.gitmodules``,
    inside the work tree only): git runs ``status`` inside each, with its own config."""
    found: list[Path] = []
    top = common / "modules"
    if top.is_dir():
        for folder, dirs, files in os.walk(top):
            if "config" in files and "HEAD" in files:
                found.append(Path(folder))
                dirs[:] = [d for d in dirs if d == "modules"]
            if len(found) >= _MAX_SUBMODULES:
                return found
    listed = _read(root / ".gitmodules") if root is not None else None
    for line in (listed or b"").decode("utf-8", "replace").splitlines()[: _MAX_SUBMODULES * 8]:
        key, _, value = line.partition("=")
        if key.strip().lower() == "path" and root is not None:
            own = _own_git_dir(root, value.strip().strip('"'))
            if own is not None and own not in found:
                found.append(own)
    return found[:_MAX_SUBMODULES]


def _own_git_dir(root: Path, path: str) -> Path | None:
    """``root/path/.git`` when it is a folder inside the work tree (a ``.git`` file points
    into ``modules/``, walked already)."""
    base = os.path.realpath(root)
    folder = os.path.realpath(os.path.join(base, path, ".git"))
    inside = folder.startswith(base + os.sep)
    return Path(folder) if inside and os.path.isdir(folder) else None


def find(gitdir: Path, common: Path, run: Runner, root: Path | None = None) -> Programs | None:
    """The ``Programs`` of the repository whose git folder is ``gitdir`` (``common``: the
    shared one of its worktrees; ``root``: its work tree); None when git could not be asked
    and nothing can be said."""
    asks: list[Path | None] = []
    if _mentions(common / "config") or _mentions(gitdir / "config.worktree"):
        asks.append(None)
    asks.extend(
        sub
        for sub in _submodule_dirs(common, root)
        if _mentions(sub / "config") or _mentions(sub / "config.worktree")
    )
    if not asks:
        return NONE
    options: dict[str, str] = {}
    refused: set[str] = set()
    for where in asks:
        records = run(where)
        if records is None:
            return None
        found, names = overrides(records)
        options.update(found)
        refused.update(names)
    return Programs(tuple(options.items()), tuple(sorted(refused)))


def _entries(records: Sequence[str]) -> Iterable[tuple[str, str, str | None]]:
    """(scope, key, value) from ``git config -z --show-scope --get-regexp`` records (a scope,
    then ``key\\nvalue``; a key set without ``=`` has no value)."""
    for index in range(0, len(records) - 1, 2):
        key, newline, value = records[index + 1].partition("\n")
        yield records[index], key, (value if newline else None)


def overrides(records: Sequence[str]) -> tuple[dict[str, str], set[str]]:
    """The ``-c`` values that keep the repository's filter programs from running, and the
    names of the drivers they switch off."""
    last: dict[str, tuple[str, str | None]] = {}
    trusted: dict[str, str | None] = {}  # the last value from the user's own config
    for scope, key, value in _entries(records):
        last[key] = (scope, value)  # git gives keys as it compares them
        if scope not in _REPOSITORY_SCOPES:
            trusted[key] = value
    options: dict[str, str] = {}
    refused: set[str] = set()
    for key, (scope, value) in last.items():
        name, _, field = key[len("filter.") :].rpartition(".")
        if (
            scope not in _REPOSITORY_SCOPES
            or not key.startswith("filter.")
            or field not in _PROGRAM_FIELDS
            or not value
        ):
            continue
        replacement = trusted.get(key) or ""
        options[key] = replacement
        if not replacement:
            refused.add(name)
    for name in refused:  # an empty program with required=true makes git stop ("failed")
        options[f"filter.{name}.required"] = "false"
    return options, refused
