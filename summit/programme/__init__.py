"""The programme of the day (dagprogramma)."""
