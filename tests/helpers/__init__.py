"""Helpers shared by the tests: repos, fake model server, agent environments, ranking fixtures."""
