"""Table seating (tafelindeling): rounds composed per the mix, topic rounds, the day's changes."""
