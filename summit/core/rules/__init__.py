"""Pure rules every part shares: roles and phases, the summit settings, the audit chain."""
