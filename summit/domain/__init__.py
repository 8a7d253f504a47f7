"""Pure domain rules: no web, database or I/O imports (sortition, seating, voting, audit chain)."""
