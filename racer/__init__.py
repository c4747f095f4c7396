"""racer: race AI coding agents on one spec and land the winner on evidence.

Importing racer has no side effects; the CLI lives in racer.cli.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
