"""Backups of an environment's database: the vault, its controls and the DR drill."""
