"""Executor backends: `local` (this process, the default) and `ray` (imported only when asked)."""
