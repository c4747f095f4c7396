"""`python -m racer.basefill COMMON_DIR BASE_DIR COMMIT`: write a base checkout of overlay lanes
to the disk, detached, after the racer whose lanes stood on a copy of it in memory has exited
(racer.basemem). At a lower CPU priority; under the base's lock, so a racer
command that needs it waits, and a second writer finds it written."""

from __future__ import annotations

import sys
from pathlib import Path

from racer import overlay
from racer.errors import GitError
from racer.proc import lower_this_thread


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m racer.basefill COMMON_DIR BASE_DIR COMMIT", file=sys.stderr)
        return 2
    common_dir, base, commit = Path(argv[0]), Path(argv[1]), argv[2]
    lower_this_thread()
    try:
        overlay.ensure_base(common_dir, base.parent.parent, commit)
    except (OSError, GitError) as exc:
        print(f"racer: the base checkout {base} was not written: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
