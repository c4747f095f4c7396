"""`python -m racer`: the same entry point as the `racer` console script."""

from __future__ import annotations

from racer.cli import main

if __name__ == "__main__":
    main()
