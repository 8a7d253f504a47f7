"""Ideas recorded at the tables (ideeën) and the live theme board (themabord)."""
