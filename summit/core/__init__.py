"""What every part of the platform shares.

Summits, participants, personal links and sessions, rounds and tables, the audit log, events,
the database, i18n and errors.
"""
